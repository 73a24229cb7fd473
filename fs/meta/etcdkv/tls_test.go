package etcdkv_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/fs/meta/etcdkv"
)

// writeCerts makes a CA and a certificate it signs for 127.0.0.1, good
// for servers and clients, and writes them as PEM files in dir.
func writeCerts(t *testing.T, dir string) etcdkv.TLSFiles {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "member"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	files := etcdkv.TLSFiles{
		CertFile: filepath.Join(dir, "member.pem"),
		KeyFile:  filepath.Join(dir, "member-key.pem"),
		CAFile:   filepath.Join(dir, "ca.pem"),
	}
	for path, block := range map[string]*pem.Block{
		files.CertFile: {Type: "CERTIFICATE", Bytes: leafDER},
		files.KeyFile:  {Type: "EC PRIVATE KEY", Bytes: keyDER},
		files.CAFile:   {Type: "CERTIFICATE", Bytes: caDER},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// A member serving clients and peers over mutual TLS: ClientConfig's
// client gets in; one without a client certificate does not.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	files := writeCerts(t, dir)
	ports, err := freePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	m, err := etcdkv.StartEmbedded(etcdkv.EmbedConfig{
		Dir:           filepath.Join(dir, "member"),
		ClientURL:     fmt.Sprintf("https://127.0.0.1:%d", ports[0]),
		PeerURL:       fmt.Sprintf("https://127.0.0.1:%d", ports[1]),
		ClientTLS:     &files,
		PeerTLS:       &files,
		UnsafeNoFsync: true,
		Logger:        quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cfg, err := m.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = quiet
	kv, err := etcdkv.Open(cfg)
	if err != nil {
		t.Fatalf("Open with the member's TLS: %v", err)
	}
	defer kv.Close()
	put(t, kv, "k", "v")
	wantValue(t, kv, "k", "v")

	cfg.TLS = &tls.Config{RootCAs: cfg.TLS.RootCAs} // no client certificate
	cfg.DialTimeout = time.Second
	if kv, err := etcdkv.Open(cfg); err == nil {
		kv.Close()
		t.Error("Open without a client certificate succeeded")
	}
}
