// Package pki makes and loads a cairn cluster's credentials: the
// certificate authority (ECDSA P-256) that signs every node's certificate
// for mutual TLS on the chunk RPC, and the gossip encryption key.
//
// On disk, a cluster directory (written by `cairn cluster init`) holds
//
//	ca.crt, ca.key   the authority (keep ca.key offline)
//	gossip.key       the serf keyring key, base64 (32 bytes: AES-256-GCM)
//	NAME/            one bundle per node, the --tls-dir of that node
//
// and a bundle directory holds ca.crt, node.crt, node.key and gossip.key.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names in a cluster or bundle directory.
const (
	CACert    = "ca.crt"
	CAKey     = "ca.key"
	GossipKey = "gossip.key"
	NodeCert  = "node.crt"
	NodeKey   = "node.key"
)

// Validity periods.
const (
	caValidity   = 10 * 365 * 24 * time.Hour
	certValidity = 3 * 365 * 24 * time.Hour
)

// CA is a cluster's certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewCA makes a new self-signed authority.
func NewCA(cluster string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "cairn CA " + cluster, Organization: []string{"cairn"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

// Kind is what a certificate may be used for.
type Kind int

const (
	// KindNode certificates serve the chunk RPC and call other nodes.
	KindNode Kind = iota
	// KindClient certificates only call nodes (the CLI, monitoring).
	KindClient
)

// Issue signs a certificate for name (a DNS label: nodes verify each
// other by name) and returns it and its key, PEM-encoded. hosts adds
// DNS names or IP addresses to the certificate.
func (ca *CA) Issue(name string, kind Kind, hosts []string) (certPEM, keyPEM []byte, err error) {
	if err := ValidName(name); err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{"cairn"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		DNSNames:     []string{name},
	}
	if kind == KindNode {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != name {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pemBlock("CERTIFICATE", der), pemBlock("EC PRIVATE KEY", keyDER), nil
}

// ValidName checks that name can be a node name: a DNS label (lowercase
// letters, digits, '-'), since peers verify certificates by node name.
func ValidName(name string) error {
	if name == "" || len(name) > 63 || strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") {
		return fmt.Errorf("node name %q: want a DNS label (a-z, 0-9, '-', at most 63)", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("node name %q: want a DNS label (a-z, 0-9, '-', at most 63)", name)
		}
	}
	return nil
}

// Save writes the authority to dir (ca.key readable by the owner only).
func (ca *CA) Save(dir string) error {
	keyDER, err := x509.MarshalECPrivateKey(ca.Key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return errors.Join(
		writeNew(filepath.Join(dir, CAKey), pemBlock("EC PRIVATE KEY", keyDER), 0o600),
		writeNew(filepath.Join(dir, CACert), ca.CertPEM(), 0o644),
	)
}

// CertPEM returns the authority's certificate, PEM-encoded.
func (ca *CA) CertPEM() []byte { return pemBlock("CERTIFICATE", ca.Cert.Raw) }

// LoadCA reads the authority saved in dir.
func LoadCA(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CACert))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, CAKey))
	if err != nil {
		return nil, err
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, CACert), err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", filepath.Join(dir, CAKey))
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, CAKey), err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// WriteBundle issues a certificate for name and writes the bundle
// directory out: ca.crt, node.crt, node.key and, when gossipKey is not
// nil, gossip.key.
func (ca *CA) WriteBundle(out, name string, kind Kind, hosts []string, gossipKey []byte) error {
	certPEM, keyPEM, err := ca.Issue(name, kind, hosts)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return err
	}
	errs := []error{
		writeNew(filepath.Join(out, CACert), ca.CertPEM(), 0o644),
		writeNew(filepath.Join(out, NodeCert), certPEM, 0o644),
		writeNew(filepath.Join(out, NodeKey), keyPEM, 0o600),
	}
	if gossipKey != nil {
		errs = append(errs, WriteGossipKey(filepath.Join(out, GossipKey), gossipKey))
	}
	return errors.Join(errs...)
}

// NewGossipKey returns a random 32-byte key (AES-256) for serf's keyring.
func NewGossipKey() ([]byte, error) {
	key := make([]byte, 32)
	_, err := rand.Read(key)
	return key, err
}

// WriteGossipKey saves key base64-encoded, readable by the owner only.
func WriteGossipKey(path string, key []byte) error {
	return writeNew(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600)
}

// ParseGossipKey decodes a base64 key of 16, 24 or 32 bytes.
func ParseGossipKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("gossip key: %w", err)
	}
	if n := len(key); n != 16 && n != 24 && n != 32 {
		return nil, fmt.Errorf("gossip key: %d bytes, want 16, 24 or 32", n)
	}
	return key, nil
}

// ReadGossipKey reads a key saved by WriteGossipKey.
func ReadGossipKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseGossipKey(string(b))
}

func serialNumber() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func parseCert(certPEM []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// writeNew writes a file that must not exist yet: credentials are never
// silently replaced.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
