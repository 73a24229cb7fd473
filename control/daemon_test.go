package control_test

import (
	"context"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/control/client"
	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/snapshots"
)

// daemon is a control server over a real data directory (badger and the
// local chunk store), served on its unix socket as `cairn server` does.
type daemon struct {
	dir string
	d   *datadir.Data
	srv *control.Server
	api *client.Client
}

// startDaemon starts a daemon on a fresh data directory, stopped when the
// test ends. The directory is short-named: a unix socket path must fit
// in 104 bytes.
func startDaemon(t *testing.T) *daemon {
	t.Helper()
	dir, err := os.MkdirTemp("", "cairn-ctl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d, err := datadir.Open(dir, datadir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := snapshots.New(d.FS, d.Chunks, snapshots.Options{})
	srv := control.New(control.Config{FS: d.FS, Snapshots: m, Chunks: d.Chunks, Verify: d.Local, DataDir: dir,
		Meta: "badger", Version: "test"})
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
	return &daemon{dir: dir, d: d, srv: srv, api: api}
}

// ctx is a test's context with a generous deadline (the machine may be
// busy).
func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// wantCode fails unless err is a status with code want.
func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if want == codes.OK {
		if err != nil {
			t.Fatalf("got error %v, want success", err)
		}
		return
	}
	s, ok := status.FromError(err)
	if !ok || s.Code() != want {
		t.Fatalf("got %v, want code %s", err, want)
	}
	if s.Message() == "" {
		t.Fatalf("status %s without a message", s.Code())
	}
}

// sleep waits a little between polls.
func sleep() { time.Sleep(50 * time.Millisecond) }
