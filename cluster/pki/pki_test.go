package pki

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
)

func TestCABundleRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ca, err := NewCA("t")
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Save(dir); err != nil {
		t.Fatal(err)
	}
	if err := ca.Save(dir); err == nil {
		t.Fatal("Save replaced an existing CA")
	}
	loaded, err := LoadCA(dir)
	if err != nil || !loaded.Cert.Equal(ca.Cert) {
		t.Fatalf("LoadCA: %v", err)
	}
	key, err := NewGossipKey()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "n1")
	if err := loaded.WriteBundle(out, "n1", KindNode, []string{"10.0.0.1", "n1.example"}, key); err != nil {
		t.Fatal(err)
	}
	b, err := LoadBundle(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.GossipKey, key) {
		t.Error("gossip key changed on the way")
	}
	leaf, err := x509.ParseCertificate(b.Cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	opts := x509.VerifyOptions{Roots: b.Roots, DNSName: "n1", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if _, err := leaf.Verify(opts); err != nil {
		t.Errorf("node certificate does not verify as n1: %v", err)
	}
	if err := leaf.VerifyHostname("10.0.0.1"); err != nil {
		t.Errorf("extra IP missing: %v", err)
	}
	if st, _ := os.Stat(filepath.Join(out, NodeKey)); st.Mode().Perm() != 0o600 {
		t.Errorf("node.key mode %v", st.Mode())
	}
	// A client certificate can't serve.
	cl := filepath.Join(dir, "admin")
	if err := loaded.WriteBundle(cl, "admin", KindClient, nil, nil); err != nil {
		t.Fatal(err)
	}
	cb, err := LoadBundle(cl)
	if err != nil || cb.GossipKey != nil {
		t.Fatalf("client bundle: %v", err)
	}
	cleaf, _ := x509.ParseCertificate(cb.Cert.Certificate[0])
	if _, err := cleaf.Verify(opts); err == nil {
		t.Error("a client certificate verifies for serving")
	}
}

func TestValidNameAndKeys(t *testing.T) {
	for _, bad := range []string{"", "N1", "a_b", "-a", "a.b", string(make([]byte, 64))} {
		if ValidName(bad) == nil {
			t.Errorf("ValidName(%q) accepted", bad)
		}
	}
	if _, err := ParseGossipKey("c2hvcnQ="); err == nil {
		t.Error("ParseGossipKey accepted a 5-byte key")
	}
}
