package nfsgw

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests drive Debian's libnfs-utils, a real client that asks MOUNT
// for the export list first (what plain go-nfs could not answer).

// libnfsURL is the URL of path in testVolume on e's gateway.
func libnfsURL(e *env, path string) string {
	return fmt.Sprintf("nfs://127.0.0.1/%s%s?nfsport=%d&mountport=%d&version=3", testVolume, path, e.port, e.port)
}

// runTool runs a libnfs tool, failing the test if it takes too long.
func runTool(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		// The real client is the point of these tests: .ci/run installs it.
		t.Fatalf("%s not installed (apt-get install libnfs-utils)", name)
	}
	cmd := exec.Command(path, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("%s %q did not finish", name, args)
	}
	return out.String(), err
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

func TestLibnfsListAndCat(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	c := mountClient(t, e, 0, 0)
	for _, d := range []string{"/docs", "/docs/deep"} {
		if _, err := c.tgt.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c.writeFile("/docs/readme.txt", []byte("hello from cairn\n"))
	c.writeFile("/docs/deep/leaf.bin", bytes.Repeat([]byte{7}, 5000))
	if err := c.tgt.Symlink("readme.txt", "/docs/link"); err != nil {
		t.Fatal(err)
	}

	out, err := runTool(t, "nfs-ls", "-R", libnfsURL(e, "/"))
	if err != nil {
		t.Fatalf("nfs-ls: %v\n%s", err, out)
	}
	t.Logf("nfs-ls -R:\n%s", out)
	for _, want := range []string{"docs", "readme.txt", "deep", "leaf.bin", "link", "5000"} {
		if !strings.Contains(out, want) {
			t.Errorf("nfs-ls -R output lacks %q:\n%s", want, out)
		}
	}
	out, err = runTool(t, "nfs-cat", libnfsURL(e, "/docs/readme.txt"))
	if err != nil || out != "hello from cairn\n" {
		t.Errorf("nfs-cat: %q, %v", out, err)
	}
	out, err = runTool(t, "nfs-cat", libnfsURL(e, "/docs/missing.txt"))
	if err == nil {
		t.Errorf("nfs-cat of a missing file succeeded: %q", out)
	}
	out, err = runTool(t, "nfs-ls", libnfsURL(e, "/nowhere"))
	if err == nil {
		t.Errorf("nfs-ls of a missing directory succeeded: %q", out)
	}
	out, err = runTool(t, "nfs-ls", fmt.Sprintf("nfs://127.0.0.1/novolume?nfsport=%d&mountport=%d&version=3", e.port, e.port))
	if err == nil {
		t.Errorf("nfs-ls of a volume that is not exported succeeded: %q", out)
	}
}

// TestLibnfsCopy copies 100 MiB in and out with nfs-cp and compares checksums.
func TestLibnfsCopy(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	dir := t.TempDir()
	src := filepath.Join(dir, "src.bin")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.NewChaCha8([32]byte{42})
	if _, err := io.CopyN(f, rng, 100<<20); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if out, err := runTool(t, "nfs-cp", src, libnfsURL(e, "/big.bin")); err != nil {
		t.Fatalf("nfs-cp to NFS: %v\n%s", err, out)
	}
	t.Logf("100 MiB copied in in %v", time.Since(start))
	start = time.Now()
	dst := filepath.Join(dir, "dst.bin")
	if out, err := runTool(t, "nfs-cp", libnfsURL(e, "/big.bin"), dst); err != nil {
		t.Fatalf("nfs-cp from NFS: %v\n%s", err, out)
	}
	t.Logf("100 MiB copied out in %v", time.Since(start))
	if fileSum(t, src) != fileSum(t, dst) {
		t.Fatal("the file copied out differs from the file copied in")
	}
}

// TestLibnfsPortmapper lets nfs-ls find the ports through the built-in
// portmapper on port 111, as a URL (or mount) without port options does.
func TestLibnfsPortmapper(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	l, err := net.Listen("tcp", "127.0.0.1:111")
	if err != nil {
		t.Skipf("port 111 not available: %v", err)
	}
	go e.srv.ServePortmapper(l)
	c := mountClient(t, e, 0, 0)
	c.writeFile("/found", []byte("via portmapper"))
	out, err := runTool(t, "nfs-cat", "nfs://127.0.0.1/"+testVolume+"/found?version=3")
	if err != nil || out != "via portmapper" {
		t.Errorf("nfs-cat through the portmapper: %q, %v", out, err)
	}
}
