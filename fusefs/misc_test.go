//go:build linux

package fusefs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/fs"
)

// TestReadOnly checks that a read-only mount reads and refuses changes.
func TestReadOnly(t *testing.T) {
	requireFUSE(t)
	d := openData(t, t.TempDir(), nil)
	vol := newVolume(t, d, "ro")
	ctx := context.Background()
	a, err := vol.Mknod(ctx, nil, fs.RootIno, "file", syscall.S_IFREG|0o644, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, err := vol.Open(ctx, nil, a.Ino, syscall.O_WRONLY)
	if err == nil {
		_, err = h.Write(ctx, []byte("hello"), 0)
		err = errors.Join(err, h.Release(ctx))
	}
	if err != nil {
		t.Fatal(err)
	}
	mnt := mountVolume(t, vol, Options{ReadOnly: true})
	if b, err := os.ReadFile(filepath.Join(mnt, "file")); err != nil || string(b) != "hello" {
		t.Errorf("read: %q, %v", b, err)
	}
	for name, err := range map[string]error{
		"write":  os.WriteFile(filepath.Join(mnt, "file"), nil, 0o644),
		"create": os.WriteFile(filepath.Join(mnt, "new"), nil, 0o644),
		"mkdir":  os.Mkdir(filepath.Join(mnt, "dir"), 0o755),
		"chmod":  os.Chmod(filepath.Join(mnt, "file"), 0o600),
		"remove": os.Remove(filepath.Join(mnt, "file")),
	} {
		if !errors.Is(err, syscall.EROFS) {
			t.Errorf("%s: got %v, want EROFS", name, err)
		}
	}
}

// TestStatfsAndFsyncdir checks statfs figures and that fsyncdir syncs.
func TestStatfsAndFsyncdir(t *testing.T) {
	requireFUSE(t)
	d := openData(t, t.TempDir(), nil)
	var syncs atomic.Int32
	sync := func(ctx context.Context) error { syncs.Add(1); return d.FS.Sync(ctx) }
	mnt := mountVolume(t, newVolume(t, d, "statfs"), Options{Sync: sync})
	if err := os.WriteFile(filepath.Join(mnt, "f"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	if st.Namelen != fs.MaxNameLen || st.Bsize != 4096 || st.Blocks-st.Bfree != (1<<20)/4096 ||
		st.Files-st.Ffree != 2 {
		t.Errorf("statfs: %+v", st)
	}
	dir, err := os.Open(mnt)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	if err := dir.Sync(); err != nil || syncs.Load() != 1 {
		t.Errorf("fsyncdir: %v, %d syncs", err, syncs.Load())
	}
}

// TestLazyUnmount detaches a mount while a file unlinked but still open
// is in it: once the mount is gone the file must be reclaimed, even if
// the kernel dropped its RELEASE.
func TestLazyUnmount(t *testing.T) {
	requireFUSE(t)
	d := openData(t, t.TempDir(), nil)
	vol := newVolume(t, d, "lazy")
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := mountAt(t, vol, mnt, Options{})
	f, err := os.Create(filepath.Join(mnt, "file"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(f.Name()); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Unmount(mnt, syscall.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	f.Close()
	done := make(chan struct{})
	go func() { srv.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not stop after the lazy unmount")
	}
	if u, err := vol.Usage(context.Background()); err != nil || u.Inodes != 1 || u.Bytes != 0 {
		t.Errorf("after the unmount: usage %+v, %v; want only the root", u, err)
	}
}
