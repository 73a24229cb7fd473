package control_test

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/cluster/pki"
	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/control/client"
)

// serveTCP serves d's API on a loopback TCP port with auth.
func serveTCP(t *testing.T, d *daemon, auth control.TCPAuth) string {
	t.Helper()
	opts, err := control.TCPServerOptions(auth)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(opts...)
	d.srv.Register(g)
	go g.Serve(l)
	t.Cleanup(g.Stop)
	return "tcp://" + l.Addr().String()
}

// bundle issues a bundle of a (new or given) CA.
func bundle(t *testing.T, ca *pki.CA, name string, kind pki.Kind) *pki.Bundle {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := ca.WriteBundle(dir, name, kind, []string{"127.0.0.1"}, nil); err != nil {
		t.Fatal(err)
	}
	b, err := pki.LoadBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newCA(t *testing.T) *pki.CA {
	t.Helper()
	ca, err := pki.NewCA("test")
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// TCP callers need the token or a certificate of the cluster CA.
func TestTCPAuth(t *testing.T) {
	d := startDaemon(t)
	ca, other := newCA(t), newCA(t)
	server := bundle(t, ca, "n1", pki.KindNode)
	tokenOnly := serveTCP(t, d, control.TCPAuth{Token: "s3cret"})
	tlsOnly := serveTCP(t, d, control.TCPAuth{TLS: server.ServerTLS()})
	either := serveTCP(t, d, control.TCPAuth{TLS: server.ServerTLS(), Token: "s3cret"})
	admin, stranger := bundle(t, ca, "admin", pki.KindClient), bundle(t, other, "admin", pki.KindClient)
	tests := []struct {
		name, endpoint string
		opts           client.Options
		code           codes.Code
	}{
		{"token", tokenOnly, client.Options{Token: "s3cret"}, codes.OK},
		{"no token", tokenOnly, client.Options{}, codes.Unauthenticated},
		{"wrong token", tokenOnly, client.Options{Token: "guess"}, codes.Unauthenticated},
		{"cluster certificate", tlsOnly, client.Options{TLS: admin.ClientTLS()}, codes.OK},
		{"another CA's certificate", tlsOnly, client.Options{TLS: stranger.ClientTLS()}, codes.Unavailable},
		{"TLS without a certificate", either, client.Options{TLS: tlsNoCert(admin)}, codes.Unauthenticated},
		{"TLS and the token", either, client.Options{TLS: tlsNoCert(admin), Token: "s3cret"}, codes.OK},
		{"certificate, no token", either, client.Options{TLS: admin.ClientTLS()}, codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, err := client.Dial(tt.endpoint, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer api.Close()
			_, err = api.Volumes.ListVolumes(ctx(t), &cairnv1.ListVolumesRequest{})
			wantCode(t, err, tt.code)
		})
	}
	if _, err := control.TCPServerOptions(control.TCPAuth{}); err == nil {
		t.Fatal("a TCP listener with no authentication was allowed")
	}
}

// tlsNoCert is b's client TLS without a client certificate.
func tlsNoCert(b *pki.Bundle) *tls.Config {
	cfg := b.ClientTLS()
	cfg.Certificates = nil
	return cfg
}

// A second daemon cannot take the socket of a running one, and a stale
// socket (its daemon died) is replaced.
func TestSocketOwnership(t *testing.T) {
	d := startDaemon(t)
	fi, err := os.Stat(control.SocketPath(d.dir))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket: %v, %v; want mode 0600", fi, err)
	}
	if _, err := control.ListenUnix(control.SocketPath(d.dir), ""); err == nil {
		t.Fatal("a second daemon took the socket of a running one")
	}
	stale := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	l2, err := control.ListenUnix(stale, "")
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	l2.Close()
	if _, err := client.Find(ctx(t), stale); err == nil {
		t.Fatal("Find found a daemon on a dead socket")
	}
}
