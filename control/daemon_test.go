package control_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/control/client"
	"github.com/cairn-storage/cairn/control/controltest"
	"github.com/cairn-storage/cairn/datadir"
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
	return startDaemonWith(t, nil)
}

// startDaemonWith is startDaemon with an event history, as `cairn server`
// has: every log of the daemon (the data directory's included) goes
// through events. Nil: none, as startDaemon.
func startDaemonWith(t *testing.T, events *control.EventLog) *daemon {
	t.Helper()
	d := controltest.Start(t, controltest.Options{Events: events})
	return &daemon{dir: d.Dir, d: d.Data, srv: d.Server, api: d.API}
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
