package control

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// SocketName is the control socket's name in the data directory.
const SocketName = "cairn.sock"

// SocketPath is where the daemon owning dataDir listens.
func SocketPath(dataDir string) string { return filepath.Join(dataDir, SocketName) }

// ListenUnix listens on the unix socket path, replacing a stale socket
// file (one nobody answers on); the socket's mode is 0600, or 0660 owned
// by group when group is not "".
func ListenUnix(path, group string) (net.Listener, error) {
	if len(path) >= 104 { // sun_path is 104 bytes on macOS, 108 on Linux
		return nil, fmt.Errorf("control socket %s: path longer than 103 bytes: %w", path, syscall.ENAMETOOLONG)
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: another cairn daemon serves it: %w", path, syscall.EADDRINUSE)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("control socket: remove stale %s: %w", path, err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	mode, gid := os.FileMode(0o600), -1
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("--socket-group %q: %w", group, err)
		}
		if gid, err = strconv.Atoi(g.Gid); err != nil {
			l.Close()
			return nil, fmt.Errorf("--socket-group %q: gid %q: %w", group, g.Gid, err)
		}
		mode = 0o660
	}
	if err := os.Chmod(path, mode); err != nil {
		l.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if gid >= 0 {
		if err := os.Chown(path, -1, gid); err != nil {
			l.Close()
			return nil, fmt.Errorf("control socket: %w", err)
		}
	}
	return l, nil
}

// TCPAuth is how callers on TCP prove who they are: a certificate of the
// cluster CA (TLS, mutual), a bearer token, or either.
type TCPAuth struct {
	// TLS, if set, is the server's TLS configuration (a cluster bundle's
	// ServerTLS). With Token also set, a client certificate is optional.
	TLS *tls.Config
	// Token, if set, is accepted as "authorization: Bearer TOKEN".
	Token string
}

// TCPServerOptions are the gRPC options of a TCP listener: credentials
// and the check that every call is authenticated.
func TCPServerOptions(auth TCPAuth) ([]grpc.ServerOption, error) {
	if auth.TLS == nil && auth.Token == "" {
		return nil, errors.New("control API on TCP needs a certificate bundle (--tls-dir) or a token (--api-token-file)")
	}
	opts := ServerOptions()
	if auth.TLS != nil {
		cfg := auth.TLS.Clone()
		if auth.Token != "" {
			cfg.ClientAuth = tls.VerifyClientCertIfGiven
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg)))
	}
	check := func(ctx context.Context) error { return authenticated(ctx, auth) }
	opts = append(opts,
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := check(ctx); err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if err := check(ss.Context()); err != nil {
				return err
			}
			return h(srv, ss)
		}))
	return opts, nil
}

// authenticated accepts a call with a verified client certificate or the
// token.
func authenticated(ctx context.Context, auth TCPAuth) error {
	if p, ok := peer.FromContext(ctx); ok && auth.TLS != nil {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.VerifiedChains) > 0 {
			return nil
		}
	}
	if auth.Token != "" {
		md, _ := metadata.FromIncomingContext(ctx)
		for _, v := range md.Get("authorization") {
			if subtle.ConstantTimeCompare([]byte(v), []byte("Bearer "+auth.Token)) == 1 {
				return nil
			}
		}
	}
	return errorf(codes.Unauthenticated, "the control API on TCP needs a client certificate of the cluster CA or a valid bearer token")
}
