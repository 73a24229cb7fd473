package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// End-to-end tests run cairn processes from a binary built once per run,
// as users run it: without the race detector, whose cost would make a
// gigabyte through four replicating processes take many minutes. Where
// no Go toolchain is at hand, the test binary itself runs as cairn
// (CAIRN_TEST_MAIN).
func TestMain(m *testing.M) {
	if os.Getenv("CAIRN_TEST_MAIN") != "" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	builtDir  string // holds the built binary
	builtBin  string
)

// cairnCommand returns the command that runs `cairn args...`.
func cairnCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cairn-e2e-")
		if err != nil {
			return
		}
		builtDir = dir
		bin := filepath.Join(dir, "cairn")
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Logf("building cairn failed, running the test binary as cairn: %v\n%s", err, out)
			return
		}
		builtBin = bin
	})
	if builtBin != "" {
		return exec.Command(builtBin, args...)
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CAIRN_TEST_MAIN=1")
	return cmd
}

// freeAddr returns a free loopback address for a server a test starts.
// The port is picked below the kernel's ephemeral range (32768-60999 by
// default): a port the kernel handed out and took back (port 0) is soon
// handed to some outgoing connection of the many the cluster tests make,
// and the server then fails to bind it.
func freeAddr(t *testing.T) string {
	t.Helper()
	for range 100 {
		port := 20000 + mrand.IntN(12000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		l.Close()
		return l.Addr().String()
	}
	t.Fatal("no free port in 20000-31999 after 100 tries")
	return ""
}

// startCairn runs `cairn args...` in the background until the test ends.
func startCairn(t *testing.T, logName string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := cairnCommand(t, args...)
	log, err := os.Create(filepath.Join(t.TempDir(), logName))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("%s:\n%s", logName, b)
		}
	})
	return cmd
}

// waitMounted waits until dir is a FUSE mount.
func waitMounted(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile("/proc/self/mountinfo")
		if err == nil && strings.Contains(string(b), " "+dir+" ") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not mounted in time", dir)
}

// TestClusterTwoNodes runs two server processes sharing an embedded etcd
// and replicating chunks over mutual TLS: a file written through node 1's
// FUSE mount reads back identically through node 2's mount, and one
// written through node 2's mount reads back through node 1's NFS gateway.
func TestClusterTwoNodes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for FUSE mounts")
	}
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "pki")
	app := newApp()
	if err := app.Run([]string{"cairn", "cluster", "init", "--out", pkiDir, "--nodes", "n1,n2"}); err != nil {
		t.Fatal(err)
	}
	etcdClient, etcdPeer := freeAddr(t), freeAddr(t)
	m1, m2 := filepath.Join(dir, "m1"), filepath.Join(dir, "m2")
	for _, m := range []string{m1, m2} {
		if err := os.Mkdir(m, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	gossip1, nfs1 := freeAddr(t), freeAddr(t)
	startCairn(t, "n1.log", "--data", filepath.Join(dir, "d1"), "--meta", "etcd-embedded", "server",
		"--node-name", "n1", "--tls-dir", filepath.Join(pkiDir, "n1"), "--bind", gossip1,
		"--rpc-listen", freeAddr(t), "--etcd-client-url", "http://"+etcdClient,
		"--etcd-peer-url", "http://"+etcdPeer, "--mount", m1, "--nfs-listen", nfs1, "--replicas", "2")
	waitMounted(t, m1)
	startCairn(t, "n2.log", "--data", filepath.Join(dir, "d2"), "--meta", "etcd://"+etcdClient, "server",
		"--node-name", "n2", "--tls-dir", filepath.Join(pkiDir, "n2"), "--bind", freeAddr(t),
		"--rpc-listen", freeAddr(t), "--join", gossip1, "--mount", m2, "--no-nfs", "--replicas", "2")
	waitMounted(t, m2)

	data := make([]byte, 12<<20)
	rand.Read(data)
	f, err := os.Create(filepath.Join(m1, "file"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil { // both replicas durable
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for i := 0; i < 50; i++ { // within the attribute timeout
		if got, err = os.ReadFile(filepath.Join(m2, "file")); err == nil && bytes.Equal(got, data) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("node 2 read %d bytes (%v), want the %d node 1 wrote", len(got), err, len(data))
	}
	// Node 2's FUSE write, node 1's NFS read (Debian's libnfs client).
	if _, err := exec.LookPath("nfs-cat"); err != nil {
		t.Fatalf("nfs-cat (libnfs-utils) is needed: %v", err)
	}
	other := append(bytes.Repeat([]byte("through node 2, out through NFS on node 1\n"), 1000), data[:1<<20]...)
	if err := os.WriteFile(filepath.Join(m2, "other"), other, 0o644); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(nfs1)
	url := "nfs://127.0.0.1/default/other?nfsport=" + port + "&mountport=" + port + "&version=3"
	var out []byte
	for i := 0; i < 50; i++ {
		if out, err = exec.Command("nfs-cat", url).Output(); err == nil && bytes.Equal(out, other) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !bytes.Equal(out, other) {
		t.Fatalf("nfs-cat on node 1 gave %d bytes (%v), want the %d written on node 2", len(out), err, len(other))
	}
	// Every chunk has a copy on both nodes (R=2).
	count := func(d string) int {
		n := 0
		filepath.Walk(filepath.Join(dir, d, "chunks"), func(_ string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() {
				n++
			}
			return nil
		})
		return n
	}
	if c1, c2 := count("d1"), count("d2"); c1 == 0 || c1 != c2 {
		t.Fatalf("chunk files: node 1 has %d, node 2 has %d; want equal and nonzero", c1, c2)
	} else {
		t.Logf("each node holds %d chunks", c1)
	}
}
