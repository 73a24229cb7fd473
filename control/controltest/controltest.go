// Package controltest starts a real control API daemon for tests: a
// control server over a fresh data directory (badger and the local chunk
// store), served on its unix socket as `cairn server` serves it.
package controltest

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"google.golang.org/grpc"

	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/control/client"
	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/snapshots"
)

// Daemon is a running control server and a client of it.
type Daemon struct {
	Dir    string
	Data   *datadir.Data
	Server *control.Server
	API    *client.Client
}

// Options tune Start.
type Options struct {
	// Events, if set, is the daemon's event history: every log of the
	// daemon (the data directory's included) goes through it.
	Events *control.EventLog
}

// Start starts a daemon on a fresh data directory, stopped when the test
// ends. The directory is short-named: a unix socket path must fit in 104
// bytes.
func Start(t testing.TB, opts Options) *Daemon {
	t.Helper()
	dir, err := os.MkdirTemp("", "cairn-ctl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var logger *slog.Logger // the default
	if opts.Events != nil {
		logger = slog.New(opts.Events)
	}
	d, err := datadir.Open(dir, datadir.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	m := snapshots.New(d.FS, d.Chunks, snapshots.Options{})
	srv := control.New(control.Config{FS: d.FS, Snapshots: m, Chunks: d.Chunks, Verify: d.Local, DataDir: dir,
		Meta: "badger", Version: "test", Logger: logger, Events: opts.Events})
	l, err := control.ListenUnix(control.SocketPath(dir), "")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(control.ServerOptions()...)
	srv.Register(g)
	go g.Serve(l)
	api, err := client.Find(context.Background(), control.SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		api.Close()
		g.Stop()
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return &Daemon{Dir: dir, Data: d, Server: srv, API: api}
}
