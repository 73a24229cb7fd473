package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/urfave/cli/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/control/client"
	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fusefs"
	"github.com/cairn-storage/cairn/snapshots"
)

// withAPI runs fn with a client of the control API: the daemon that owns
// --data when one runs, otherwise a server in this process over the data
// directory opened here (or, with --cluster, over the cluster). Either
// way a command is the same calls, so its output and exit code are too.
func withAPI(c *cli.Context, fn func(api *client.Client) error) error {
	if !clientMode(c) {
		api, err := client.Find(c.Context, socketPath(c))
		if err == nil {
			slog.Debug("using the daemon", "socket", socketPath(c))
			defer api.Close()
			return apiError(fn(api))
		}
		if !errors.Is(err, client.ErrNoDaemon) {
			return err
		}
	}
	return withData(c, func(d *datadir.Data) error {
		return serveLocal(c, d, true, func(api *client.Client) error { return apiError(fn(api)) })
	})
}

// serveLocal serves the control API over d in this process, on an
// in-memory connection, for the duration of fn.
func serveLocal(c *cli.Context, d *datadir.Data, exclusive bool, fn func(api *client.Client) error) (err error) {
	m := snapshotManager(d)
	if err := m.Resume(c.Context); err != nil {
		return err
	}
	srv := newControl(c, d, m, exclusive)
	defer func() {
		// Join only a failure: a joined nil would hide fn's exit code.
		if cerr := srv.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	l := bufconn.Listen(1 << 20)
	g := grpc.NewServer(control.ServerOptions()...)
	srv.Register(g)
	go g.Serve(l)
	defer g.Stop()
	conn, err := grpc.NewClient("passthrough:///cairn", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return l.DialContext(ctx) }),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return err
	}
	api := client.New(conn)
	defer api.Close()
	return fn(api)
}

// controlConfig is the control server's configuration over d and m.
func controlConfig(c *cli.Context, d *datadir.Data, m *snapshots.Manager, exclusive bool) control.Config {
	cfg := control.Config{FS: d.FS, Snapshots: m, Chunks: d.Chunks, Exclusive: exclusive,
		Version: version(), DataDir: d.Dir, Meta: c.String("meta"), Logger: slog.Default(), Mount: fusefs.Options{Logger: slog.Default(), Debug: c.Bool("fuse-debug")}}
	if d.Local != nil {
		cfg.Verify = d.Local // fsck reads what is on disk, not the cache
	}
	if d.Space != nil {
		cfg.Space = d.Space
	}
	if !exclusive {
		// The daemon: its history is what `cairn events` shows. The CLI
		// serving itself has only its own few logs, so it serves none.
		cfg.Events = daemonEvents()
	}
	return cfg
}

// newControl returns the control server over d and m (resumed).
func newControl(c *cli.Context, d *datadir.Data, m *snapshots.Manager, exclusive bool) *control.Server {
	return control.New(controlConfig(c, d, m, exclusive))
}

// apiError turns a gRPC status into the plain message a user reads; the
// exit code stays 1.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(cli.ExitCoder); ok {
		return err
	}
	if s, ok := status.FromError(err); ok {
		return errors.New(s.Message())
	}
	return fmt.Errorf("%w", err)
}
