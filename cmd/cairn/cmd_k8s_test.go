package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/cluster/pki"
)

// TestK8sSpecCluster generates a cluster's spec twice with one --ca
// directory: the first run makes the CA there, the second reuses it, so
// both specs trust the same CA; a badger spec for several servers is
// refused.
func TestK8sSpecCluster(t *testing.T) {
	caDir := filepath.Join(t.TempDir(), "ca")
	first := runClusterCLI(t, "k8s", "spec", "--nodes", "3", "--ca", caDir)
	for _, want := range []string{"--etcd-initial-cluster", "name: cairn-pki-cairn-2", "name: cairn-pki-csi", "name: cairn-fuse"} {
		if !strings.Contains(first, want) {
			t.Errorf("spec of 3 nodes lacks %q", want)
		}
	}
	ca, err := pki.LoadCA(caDir)
	if err != nil {
		t.Fatalf("--ca did not keep the CA: %v", err)
	}
	caPEM := string(bytes.TrimSpace(ca.CertPEM()))
	if !strings.Contains(strings.ReplaceAll(first, "\n    ", "\n"), caPEM) {
		t.Error("the spec's bundles do not carry the CA kept in --ca")
	}
	second := runClusterCLI(t, "k8s", "spec", "--nodes", "4", "--ca", caDir)
	if !strings.Contains(strings.ReplaceAll(second, "\n    ", "\n"), caPEM) {
		t.Error("a second spec with the same --ca has another CA")
	}
	if _, err := os.Stat(filepath.Join(caDir, pki.GossipKey)); err != nil {
		t.Errorf("gossip key not kept: %v", err)
	}
	if err := newApp().Run([]string{"cairn", "k8s", "spec", "--nodes", "3", "--meta", "badger"}); err == nil ||
		!strings.Contains(err.Error(), "badger") {
		t.Errorf("badger on 3 servers: %v, want a refusal naming badger", err)
	}
}
