package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"google.golang.org/grpc"

	"github.com/cairn-storage/cairn/cluster/pki"
	"github.com/cairn-storage/cairn/control"
)

// apiFlags configure where `cairn server` serves the control API.
func apiFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "socket-group", Usage: "group that may use the control socket (mode 0660; default 0600, the owner only)", EnvVars: []string{"CAIRN_SOCKET_GROUP"}},
		&cli.StringFlag{Name: "api-listen", Usage: "also serve the control API on tcp://HOST:PORT: clients need a certificate of the cluster CA (--tls-dir) or the --api-token-file token", EnvVars: []string{"CAIRN_API_LISTEN"}},
		&cli.StringFlag{Name: "api-token-file", Usage: "file holding the bearer token TCP clients of the control API may send", EnvVars: []string{"CAIRN_API_TOKEN_FILE"}},
	}
}

// socketPath is the control socket of --data, or the global --socket:
// where the daemon serves and where every other command looks for it.
func socketPath(c *cli.Context) string {
	if s := c.String("socket"); s != "" {
		return s
	}
	return control.SocketPath(c.String("data"))
}

// serveAPI serves srv on the control socket and, with --api-listen, on
// TCP; the returned function stops serving (calls in flight get 5 s) and
// removes the socket.
func serveAPI(c *cli.Context, srv *control.Server) (stop func() error, err error) {
	path := socketPath(c)
	l, err := control.ListenUnix(path, c.String("socket-group"))
	if err != nil {
		return nil, err
	}
	servers := []*grpc.Server{grpc.NewServer(control.ServerOptions()...)}
	listeners := []net.Listener{l}
	if addr := c.String("api-listen"); addr != "" {
		g, tl, err := tcpAPI(c, addr)
		if err != nil {
			l.Close()
			return nil, err
		}
		servers, listeners = append(servers, g), append(listeners, tl)
	}
	for i, g := range servers {
		srv.Register(g)
		go func() {
			if err := g.Serve(listeners[i]); err != nil {
				slog.Error("control API stopped serving", "addr", listeners[i].Addr().String(), "err", err)
			}
		}()
	}
	slog.Info("serving the control API", "socket", path, "tcp", c.String("api-listen"))
	return func() error {
		for _, g := range servers {
			gracefulStop(g, 5*time.Second)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove control socket: %w", err)
		}
		return nil
	}, nil
}

// tcpAPI returns the TCP server of the control API and its listener.
func tcpAPI(c *cli.Context, addr string) (*grpc.Server, net.Listener, error) {
	hostPort, ok := strings.CutPrefix(addr, "tcp://")
	if !ok {
		return nil, nil, fmt.Errorf("--api-listen %q: want tcp://HOST:PORT", addr)
	}
	var auth control.TCPAuth
	if dir := c.String("tls-dir"); dir != "" {
		b, err := pki.LoadBundle(dir)
		if err != nil {
			return nil, nil, fmt.Errorf("--api-listen: %w", err)
		}
		auth.TLS = b.ServerTLS()
	}
	if f := c.String("api-token-file"); f != "" {
		tok, err := readToken(f)
		if err != nil {
			return nil, nil, fmt.Errorf("--api-token-file: %w", err)
		}
		auth.Token = tok
	}
	opts, err := control.TCPServerOptions(auth)
	if err != nil {
		return nil, nil, err
	}
	if auth.TLS == nil {
		slog.Warn("control API on TCP without TLS: the token travels in clear; give --tls-dir", "addr", hostPort)
	}
	l, err := net.Listen("tcp", hostPort)
	if err != nil {
		return nil, nil, fmt.Errorf("--api-listen: %w", err)
	}
	return grpc.NewServer(opts...), l, nil
}

// readToken reads a bearer token file (surrounding space trimmed).
func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return tok, nil
}

// gracefulStop lets calls in flight finish for up to d, then cuts them
// (a streaming send must not hold a shutdown forever).
func gracefulStop(g *grpc.Server, d time.Duration) {
	done := make(chan struct{})
	go func() { g.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		g.Stop()
	}
}
