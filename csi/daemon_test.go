package csi_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"testing"

	"google.golang.org/grpc"

	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/csi/apibackend"
	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/snapshots"
)

// daemonHelperEnv makes the test binary run as a cairn daemon (the
// control API over a data directory, as `cairn server` serves it), so
// that tests start real daemon processes without building the command.
const daemonHelperEnv = "CAIRN_CSI_TEST_DAEMON"

func TestMain(m *testing.M) {
	if os.Getenv(daemonHelperEnv) == "1" {
		os.Exit(runDaemonHelper())
	}
	os.Exit(m.Run())
}

// testDaemon is a control server over a real data directory (badger and
// the local chunk store), served on a unix socket.
type testDaemon struct {
	d   *datadir.Data
	srv *control.Server
	g   *grpc.Server
}

// startDaemon opens dir and serves its control API on socket.
func startDaemon(dir, socket string, log *slog.Logger) (*testDaemon, error) {
	d, err := datadir.Open(dir, datadir.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	m := snapshots.New(d.FS, d.Chunks, snapshots.Options{Logger: log, Freeze: d.Freeze})
	if err := m.Resume(context.Background()); err != nil {
		return nil, errors.Join(err, d.Close())
	}
	srv := control.New(control.Config{FS: d.FS, Snapshots: m, Chunks: d.Chunks, Verify: d.Local,
		DataDir: dir, Meta: "badger", Version: "test", Logger: log})
	l, err := control.ListenUnix(socket, "")
	if err != nil {
		return nil, errors.Join(err, d.Close())
	}
	g := grpc.NewServer(control.ServerOptions()...)
	srv.Register(g)
	go g.Serve(l)
	return &testDaemon{d: d, srv: srv, g: g}, nil
}

// stop stops serving, unmounts what the daemon mounted and closes the
// data directory.
func (td *testDaemon) stop() error {
	td.g.Stop()
	return errors.Join(td.srv.Close(), td.d.Close())
}

// runDaemonHelper runs a daemon from the arguments after "--", which are
// what apibackend's spawner gives `cairn`: --data DIR server --socket PATH.
func runDaemonHelper() int {
	i := slices.Index(os.Args, "--")
	args := os.Args[i+1:]
	if i < 0 || len(args) < 5 || args[0] != "--data" || args[2] != "server" || args[3] != "--socket" {
		fmt.Fprintf(os.Stderr, "daemon helper: want -- --data DIR server --socket PATH, got %q\n", os.Args)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	td, err := startDaemon(args[1], args[4], log)
	if err != nil {
		log.Error("daemon helper", "err", err)
		return 1
	}
	<-ctx.Done()
	if err := td.stop(); err != nil {
		log.Error("daemon helper: stopping", "err", err)
		return 1
	}
	return 0
}

// newTestBackend starts a daemon in this process on a fresh data
// directory and returns the Backend over it and the daemon's data. The
// directory is short-named: a unix socket path must fit in 104 bytes.
func newTestBackend(t testing.TB) (*apibackend.Backend, *datadir.Data) {
	t.Helper()
	dir, err := os.MkdirTemp("", "cairn-csi-ctl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	td, err := startDaemon(dir, control.SocketPath(dir), quiet)
	if err != nil {
		t.Fatal(err)
	}
	d, err := apibackend.Dial(apibackend.Config{Endpoint: "unix://" + control.SocketPath(dir), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Close()
		if err := td.stop(); err != nil {
			t.Error(err)
		}
	})
	return d.Backend(), td.d
}
