package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/cairn-storage/cairn/csi"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// Endpoint is the host's endpoint: unix:///PATH or tcp://HOST:PORT.
	Endpoint string
	// Token is sent as a bearer token (TCP endpoints).
	Token string
	// Spawn, if set, starts a host when none answers on a unix endpoint.
	Spawn  *SpawnConfig
	Logger *slog.Logger
}

// Client is the node plugin's connection to its host: it publishes FUSE
// mounts through it (csi.Publisher) and forwards the controller's calls.
// With a SpawnConfig it starts the host whenever it is found down.
type Client struct {
	cfg  ClientConfig
	log  *slog.Logger
	conn *grpc.ClientConn
	node csipb.NodeClient
	id   csipb.IdentityClient

	spawnMu sync.Mutex
}

var _ csi.Publisher = (*Client)(nil)

// Dial returns a client of the host at cfg.Endpoint. It does not wait
// for the host: calls do, starting it if they may.
func Dial(cfg ClientConfig) (*Client, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	network, addr, err := csi.ParseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	target := addr
	if network == "unix" {
		target = "unix://" + addr
	} else if cfg.Spawn != nil {
		return nil, errors.New("host client: only a host on a unix socket can be spawned")
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{
			BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second}}),
	}
	if cfg.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(cfg.Token)))
	}
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("host client: %w", err)
	}
	return &Client{cfg: cfg, log: cfg.Logger, conn: conn,
		node: csipb.NewNodeClient(conn), id: csipb.NewIdentityClient(conn)}, nil
}

// bearer sends a token with every call.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

// Close closes the connection; the host keeps running.
func (c *Client) Close() error { return c.conn.Close() }

// probe asks the host whether it is healthy, waiting at most d for it.
func (c *Client) probe(ctx context.Context, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_, err := c.id.Probe(ctx, &csipb.ProbeRequest{}, grpc.WaitForReady(true))
	return err
}

// Check returns nil if the host answers and is healthy, starting it
// first if it is down and this client may.
func (c *Client) Check(ctx context.Context) error {
	err := c.probe(ctx, 2*time.Second)
	if err == nil || c.cfg.Spawn == nil || !down(err) {
		return err
	}
	return c.spawn(ctx)
}

// down reports whether err means nothing answers at the endpoint.
func down(err error) bool {
	code := status.Code(err)
	return code == codes.Unavailable || code == codes.DeadlineExceeded
}

// call runs fn; if the host is down and may be started, it starts it and
// runs fn once more.
func (c *Client) call(ctx context.Context, fn func(context.Context) error) error {
	err := fn(ctx)
	if err == nil || status.Code(err) != codes.Unavailable {
		return err
	}
	if c.cfg.Spawn == nil {
		return status.Errorf(codes.Unavailable, "no cairn host answers at %s: %v", c.cfg.Endpoint, status.Convert(err).Message())
	}
	if serr := c.spawn(ctx); serr != nil {
		return status.Errorf(codes.Unavailable, "cairn host is down and could not be started: %v", serr)
	}
	return fn(ctx)
}

// Publish asks the host to mount volume at target.
func (c *Client) Publish(ctx context.Context, volume, target string, readOnly bool) error {
	return c.call(ctx, func(ctx context.Context) error {
		_, err := c.node.NodePublishVolume(ctx, &csipb.NodePublishVolumeRequest{
			VolumeId: volume, TargetPath: target, Readonly: readOnly,
			VolumeCapability: &csipb.VolumeCapability{
				AccessType: &csipb.VolumeCapability_Mount{Mount: &csipb.VolumeCapability_MountVolume{}},
				AccessMode: &csipb.VolumeCapability_AccessMode{Mode: csipb.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER}}})
		return err
	})
}

// Unpublish asks the host to unmount target; csi.ErrNotFound if the host
// serves nothing there. It does not start a host.
func (c *Client) Unpublish(ctx context.Context, target string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := c.node.NodeUnpublishVolume(ctx, &csipb.NodeUnpublishVolumeRequest{VolumeId: "-", TargetPath: target})
	if status.Code(err) == codes.NotFound {
		return fmt.Errorf("%w: %v", csi.ErrNotFound, strings.TrimPrefix(err.Error(), "rpc error: "))
	}
	return err
}
