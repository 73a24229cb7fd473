package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// Bundle is one node's (or client's) credentials.
type Bundle struct {
	// Roots holds the cluster CA: the only authority peers trust.
	Roots *x509.CertPool
	// Cert is the node's certificate and key.
	Cert tls.Certificate
	// GossipKey is the serf keyring key; nil when the bundle has none.
	GossipKey []byte
}

// LoadBundle reads a bundle directory (see the package comment).
// gossip.key is optional.
func LoadBundle(dir string) (*Bundle, error) {
	caPEM, err := os.ReadFile(filepath.Join(dir, CACert))
	if err != nil {
		return nil, fmt.Errorf("tls bundle: %w", err)
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, NodeCert))
	if err != nil {
		return nil, fmt.Errorf("tls bundle: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, NodeKey))
	if err != nil {
		return nil, fmt.Errorf("tls bundle: %w", err)
	}
	b, err := NewBundle(caPEM, certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("tls bundle %s: %w", dir, err)
	}
	switch key, err := ReadGossipKey(filepath.Join(dir, GossipKey)); {
	case err == nil:
		b.GossipKey = key
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("tls bundle %s: %w", dir, err)
	}
	return b, nil
}

// NewBundle makes a bundle from PEM data.
func NewBundle(caPEM, certPEM, keyPEM []byte) (*Bundle, error) {
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no CA certificate")
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &Bundle{Roots: roots, Cert: cert}, nil
}

// ServerTLS is the chunk RPC server's configuration: TLS 1.3, and only
// clients with a certificate of the cluster CA get in.
func (b *Bundle) ServerTLS() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{b.Cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    b.Roots,
		NextProtos:   []string{"h2"},
	}
}

// ClientTLS is the configuration for calling nodes. The server must
// present a certificate of the cluster CA; when the client dials by node
// name (the TLS server name), the certificate must also be that node's,
// so a node can't impersonate another. Dialing by IP address (the CLI
// with --addr) checks only that the server belongs to the cluster.
func (b *Bundle) ClientTLS() *tls.Config {
	roots := b.Roots
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{b.Cert},
		NextProtos:   []string{"h2"},
		// Verification is done by VerifyConnection below, which, unlike
		// the default, also works when dialing by IP without IP SANs.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("server presented no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			opts := x509.VerifyOptions{
				Roots:         roots,
				Intermediates: inter,
				KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			}
			if net.ParseIP(cs.ServerName) == nil {
				opts.DNSName = cs.ServerName
			}
			if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
				return fmt.Errorf("server is not a member of this cluster: %w", err)
			}
			return nil
		},
	}
}
