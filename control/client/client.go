// Package client is the Go client of the cairn.v1 control API: what the
// CLI, the CSI driver and the dashboard use to talk to a node daemon.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// ErrNoDaemon is returned by Find when no daemon serves the socket.
var ErrNoDaemon = errors.New("no cairn daemon is running")

// Client holds a connection to a daemon and a client of each service.
type Client struct {
	conn        *grpc.ClientConn
	Volumes     cairnv1.VolumesClient
	Snapshots   cairnv1.SnapshotsClient
	Mounts      cairnv1.MountsClient
	Maintenance cairnv1.MaintenanceClient
	Cluster     cairnv1.ClusterClient
	Health      cairnv1.HealthClient
	Events      cairnv1.EventsClient
}

// Options tune Dial.
type Options struct {
	// TLS, for a TCP endpoint, is the client's TLS configuration (a
	// cluster bundle's ClientTLS); Token is sent as a bearer token.
	TLS   *tls.Config
	Token string
}

// New returns a client over conn; Close closes conn.
func New(conn *grpc.ClientConn) *Client {
	return &Client{conn: conn,
		Volumes:     cairnv1.NewVolumesClient(conn),
		Snapshots:   cairnv1.NewSnapshotsClient(conn),
		Mounts:      cairnv1.NewMountsClient(conn),
		Maintenance: cairnv1.NewMaintenanceClient(conn),
		Cluster:     cairnv1.NewClusterClient(conn),
		Health:      cairnv1.NewHealthClient(conn),
		Events:      cairnv1.NewEventsClient(conn)}
}

// Dial returns a client of the daemon at endpoint: unix:///PATH, a socket
// path, or tcp://HOST:PORT. It does not wait for the daemon.
func Dial(endpoint string, opts Options) (*Client, error) {
	target, tcp := endpoint, false
	switch {
	case strings.HasPrefix(endpoint, "unix://"):
	case strings.HasPrefix(endpoint, "tcp://"):
		target, tcp = strings.TrimPrefix(endpoint, "tcp://"), true
	case strings.HasPrefix(endpoint, "/"):
		target = "unix://" + endpoint
	default:
		return nil, fmt.Errorf("control endpoint %q: want unix:///PATH or tcp://HOST:PORT", endpoint)
	}
	creds := insecure.NewCredentials()
	if tcp && opts.TLS != nil {
		creds = credentials.NewTLS(opts.TLS)
	}
	// Reconnection backs off to at most a second (gRPC's default is two
	// minutes): a daemon restarted by its supervisor, or started by the
	// CSI plugin, is found again at once. MinConnectTimeout must be set
	// with it: left zero, a connection attempt (TLS handshake included)
	// gets only the backoff delay, 50 ms at first, which a busy machine
	// misses (TestTCPAuth failed so under stress-ng).
	dopts := []grpc.DialOption{grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{MinConnectTimeout: connectTimeout, Backoff: backoff.Config{
			BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second}}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20))}
	if opts.Token != "" {
		dopts = append(dopts, grpc.WithPerRPCCredentials(bearer{token: opts.Token}))
	}
	conn, err := grpc.NewClient(target, dopts...)
	if err != nil {
		return nil, fmt.Errorf("control endpoint %s: %w", endpoint, err)
	}
	return New(conn), nil
}

// Find returns a client of the daemon serving the unix socket path, or
// ErrNoDaemon when there is no socket or connecting to it is refused (a
// daemon that died leaves its socket file behind). A daemon that accepts
// but does not answer within findTimeout is an error, not ErrNoDaemon.
func Find(ctx context.Context, path string) (*Client, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w (no socket %s)", ErrNoDaemon, path)
	}
	if err := probe(ctx, path); err != nil {
		return nil, err
	}
	// Something listens: from here on it is the daemon, and a failure is
	// an error, never "no daemon" (which would have the command open the
	// data directory behind a daemon that is only slow).
	c, err := Dial("unix://"+path, Options{})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, findTimeout)
	defer cancel()
	if _, err := c.Health.Version(ctx, &cairnv1.VersionRequest{}, grpc.WaitForReady(true)); err != nil {
		c.Close()
		return nil, fmt.Errorf("the cairn daemon on %s does not answer: %w", path, err)
	}
	return c, nil
}

// connectTimeout bounds one connection attempt to a daemon, handshake
// included (gRPC's own default).
const connectTimeout = 20 * time.Second

// findTimeout bounds how long Find waits for a daemon that accepted its
// connection to answer (a busy machine may take seconds).
const findTimeout = 15 * time.Second

// probe connects to the socket once: a refused connection is a daemon
// that died and left its socket file (ErrNoDaemon); EACCES is a daemon
// this user may not call. A full accept queue (EAGAIN) is retried.
func probe(ctx context.Context, path string) error {
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		conn, err := net.Dial("unix", path)
		switch {
		case err == nil:
			conn.Close()
			return nil
		case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOENT):
			return fmt.Errorf("%w (nobody answers on %s)", ErrNoDaemon, path)
		case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
			return fmt.Errorf("the cairn daemon's socket %s: %w (run as its owner, or start it with --socket-group)", path, err)
		case !errors.Is(err, syscall.EAGAIN):
			return fmt.Errorf("the cairn daemon's socket %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the cairn daemon's socket %s: %w", path, err)
		case <-time.After(delay):
		}
		if delay >= 500*time.Millisecond {
			return fmt.Errorf("the cairn daemon's socket %s: %w (its accept queue stays full)", path, err)
		}
	}
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Reconnect makes the connection try the daemon again at once, instead
// of at its next backoff: for a caller that just started it.
func (c *Client) Reconnect() { c.conn.ResetConnectBackoff() }

// bearer sends a token with every call.
type bearer struct{ token string }

// GetRequestMetadata adds the authorization header.
func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

// RequireTransportSecurity is false so a token also works without TLS (a
// daemon in the same pod network; it warns about it when it starts).
func (b bearer) RequireTransportSecurity() bool { return false }
