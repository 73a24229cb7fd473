//go:build linux

package fusefs

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fs"
)

// TestNameTooLong checks that every operation given a 256-byte name
// fails with ENAMETOOLONG, and that 255 bytes are fine.
func TestNameTooLong(t *testing.T) {
	requireFUSE(t)
	d := openData(t, t.TempDir(), nil)
	mnt := mountVolume(t, newVolume(t, d, "names"), Options{})
	j := func(p string) string { return filepath.Join(mnt, p) }
	if err := os.WriteFile(j("file"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	long, ok := strings.Repeat("n", 256), strings.Repeat("o", 255)
	var st syscall.Stat_t
	for name, op := range map[string]func(name string) error{
		"create":  func(n string) error { return create(j(n), 0o644) },
		"mkdir":   func(n string) error { return syscall.Mkdir(j(n), 0o755) },
		"mknod":   func(n string) error { return syscall.Mknod(j(n), syscall.S_IFIFO|0o644, 0) },
		"symlink": func(n string) error { return syscall.Symlink("file", j(n)) },
		"link":    func(n string) error { return syscall.Link(j("file"), j(n)) },
		"rename":  func(n string) error { return syscall.Rename(j("file"), j(n)) },
		"lstat":   func(n string) error { return syscall.Lstat(j(n), &st) },
	} {
		// rename moves "file" away: every case starts with it in place.
		if err := os.WriteFile(j("file"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := op(long); !errors.Is(err, syscall.ENAMETOOLONG) {
			t.Errorf("%s with a 256-byte name: got %v, want ENAMETOOLONG", name, err)
		}
		if err := op(ok); name != "lstat" && name != "rename" && err != nil {
			t.Errorf("%s with a 255-byte name: %v", name, err)
		}
		os.Remove(j(ok))
	}
}

// TestCorruptChunk flips a byte of a chunk on disk and checks that
// reading the file it belongs to fails with EIO, that the log names the
// chunk, and that other files still read fine.
func TestCorruptChunk(t *testing.T) {
	requireFUSE(t)
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(7, 7))
	bad, good := randomBytes(rnd, 100<<10), randomBytes(rnd, 300<<10)
	writeAndClose(t, dir, map[string][]byte{"bad": bad, "good": good})

	id := chunks.Sum(bad) // a small file is stored as one chunk
	path := filepath.Join(dir, "chunks", id.String()[:2], id.String()[2:4], id.String())
	flipLastByte(t, path)

	logs := &logBuffer{}
	d := openData(t, dir, quietLogger(logs))
	mnt := mountVolume(t, openVolume(t, d, "corrupt"), Options{Logger: quietLogger(logs)})
	if _, err := os.ReadFile(filepath.Join(mnt, "bad")); !errors.Is(err, syscall.EIO) {
		t.Errorf("reading the corrupt file: got %v, want EIO", err)
	}
	if !strings.Contains(logs.String(), id.String()) {
		t.Errorf("the log does not name chunk %s:\n%s", id, logs)
	}
	if b, err := os.ReadFile(filepath.Join(mnt, "good")); err != nil || !bytes.Equal(b, good) {
		t.Errorf("reading the intact file: %d bytes, %v", len(b), err)
	}
}

func randomBytes(rnd *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rnd.Uint32())
	}
	return b
}

// writeAndClose creates volume "corrupt" in data directory dir, writes
// files to it through a mount, and closes everything.
func writeAndClose(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	d, err := datadir.Open(dir, datadir.Options{Logger: quietLogger(os.Stderr)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := d.FS.CreateVolume(ctx, "corrupt", fs.VolumeConfig{}); err != nil {
		t.Fatal(err)
	}
	vol, err := d.FS.OpenVolume(ctx, "corrupt")
	if err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := mountAt(t, vol, mnt, Options{})
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(mnt, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(srv.Unmount(), vol.Close(ctx), d.Close()); err != nil {
		t.Fatal(err)
	}
}

func flipLastByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("chunk file: %v", err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
