// Package apibackend connects the CSI driver to the node's cairn daemon
// (`cairn server`) through its control API: Backend serves the
// controller, Publisher the node's FUSE publishes, and Daemon, the
// connection both use, starts a daemon when none answers on its unix
// socket. See package csi for why one daemon per node owns the data.
package apibackend

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
	"github.com/cairn-storage/cairn/csi"
)

// Config says how to reach the daemon.
type Config struct {
	// Endpoint is the daemon's control API: unix:///PATH or tcp://HOST:PORT.
	Endpoint string
	// Token is sent as a bearer token; TLS, for TCP, authenticates with a
	// certificate of the cluster CA.
	Token string
	TLS   *tls.Config
	// Spawn, if set, starts a daemon when none answers on a unix Endpoint.
	Spawn  *SpawnConfig
	Logger *slog.Logger
}

// Daemon is a connection to the node daemon. A call that finds the daemon
// down starts it, if the Config allows, and is made once more.
type Daemon struct {
	cfg    Config
	log    *slog.Logger
	socket string // the unix socket's path; "" for TCP
	api    *client.Client

	spawnMu sync.Mutex
}

// Dial returns a connection to the daemon at cfg.Endpoint. It does not
// wait for the daemon: calls do, starting it if they may.
func Dial(cfg Config) (*Daemon, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	network, addr, err := csi.ParseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	if network != "unix" && cfg.Spawn != nil {
		return nil, errors.New("daemon: only a daemon on a unix socket can be started")
	}
	api, err := client.Dial(cfg.Endpoint, client.Options{TLS: cfg.TLS, Token: cfg.Token})
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	d := &Daemon{cfg: cfg, log: cfg.Logger, api: api}
	if network == "unix" {
		d.socket = addr
	}
	return d, nil
}

// Close closes the connection; the daemon keeps running.
func (d *Daemon) Close() error { return d.api.Close() }

// Backend returns the controller's Backend over the daemon.
func (d *Daemon) Backend() *Backend { return &Backend{d: d} }

// Publisher returns the node's FUSE publisher over the daemon.
func (d *Daemon) Publisher() *Publisher { return &Publisher{d: d} }

// alive asks the daemon for its version, waiting at most wait for it to
// answer: it answers whatever the state of its stores.
func (d *Daemon) alive(ctx context.Context, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	_, err := d.api.Health.Version(ctx, &cairnv1.VersionRequest{}, grpc.WaitForReady(true))
	return err
}

// down reports whether err means nothing answers at the endpoint.
func down(err error) bool {
	code := status.Code(err)
	return code == codes.Unavailable || code == codes.DeadlineExceeded
}

// Check returns nil if the daemon answers and its stores are healthy,
// starting it first if it is down and this connection may.
func (d *Daemon) Check(ctx context.Context) error {
	// Not WaitForReady: a daemon that is down fails at once (its socket
	// refuses), so the caller learns it in time to start one.
	check := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := d.api.Health.Check(ctx, &cairnv1.CheckRequest{})
		return err
	}
	err := check(ctx)
	if err == nil || d.cfg.Spawn == nil || !down(err) {
		return err
	}
	if d.alive(ctx, 300*time.Millisecond) == nil {
		return err // it answers: its stores are what fails
	}
	if err := d.spawn(ctx); err != nil {
		return err
	}
	return check(ctx)
}

// call runs fn; if the daemon is down and may be started, it starts it
// and runs fn once more.
func (d *Daemon) call(ctx context.Context, fn func(context.Context) error) error {
	err := fn(ctx)
	if err == nil || status.Code(err) != codes.Unavailable {
		return err
	}
	if d.cfg.Spawn == nil {
		return status.Errorf(codes.Unavailable, "no cairn daemon answers at %s: %v", d.cfg.Endpoint, status.Convert(err).Message())
	}
	if d.alive(ctx, 300*time.Millisecond) == nil {
		return err // it answers: Unavailable is its answer
	}
	if serr := d.spawn(ctx); serr != nil {
		return status.Errorf(codes.Unavailable, "the cairn daemon is down and could not be started: %v", serr)
	}
	return fn(ctx)
}
