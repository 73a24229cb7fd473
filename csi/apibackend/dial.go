package apibackend

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// dial connects to the daemon. Reconnection backs off to at most a
// second (gRPC's default is two minutes): a daemon restarted by its
// supervisor, or started by this plugin, is found again at once.
func dial(network, addr string, cfg Config) (*grpc.ClientConn, error) {
	target := addr
	if network == "unix" {
		target = "unix://" + addr
	}
	creds := insecure.NewCredentials()
	if network == "tcp" && cfg.TLS != nil {
		creds = credentials.NewTLS(cfg.TLS)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{
			BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second}}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20)),
	}
	if cfg.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(cfg.Token)))
	}
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("daemon %s: %w", cfg.Endpoint, err)
	}
	return conn, nil
}

// bearer sends a token with every call.
type bearer string

// GetRequestMetadata adds the authorization header.
func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity is false: a daemon in the same pod network
// may take the token without TLS (it warns about it when it starts).
func (bearer) RequireTransportSecurity() bool { return false }
