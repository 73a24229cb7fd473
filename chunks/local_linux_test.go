package chunks_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/chunks/chunkstest"
)

// TestLocalTopDir checks the ext4 top-directory flag on chunks/ and its
// first-level directories, where the file system supports it.
func TestLocalTopDir(t *testing.T) {
	dir := t.TempDir()
	s := openLocal(t, dir, chunks.LocalOptions{})
	data := []byte("top")
	id := chunks.Sum(data)
	if err := s.Put(t.Context(), id, data, chunks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	top := filepath.Dir(filepath.Dir(chunkPath(dir, id)))
	for _, d := range []string{filepath.Join(dir, "chunks"), top} {
		f, err := os.Open(d)
		if err != nil {
			t.Fatal(err)
		}
		flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
		f.Close()
		if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EOPNOTSUPP) {
			t.Skipf("%s: file system has no inode flags: %v", d, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if flags&0x00020000 == 0 {
			t.Errorf("%s: flags %#x lack FS_TOPDIR_FL", d, flags)
		}
	}
}

// TestLocalDiskFull fills a 2 MiB tmpfs: Put must fail with an error
// that is ENOSPC, leave no partial file, and the store must keep working.
func TestLocalDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: mounting a small tmpfs to fill up needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=2m"); err != nil {
		t.Skipf("skipped: cannot mount a tmpfs (%v); needs CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	s, err := chunks.OpenLocal(dir, chunks.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	var stored [][]byte
	var putErr error
	for i := range 100 {
		data := chunkstest.Random(300<<10, uint64(i))
		if putErr = s.Put(t.Context(), chunks.Sum(data), data, chunks.PutOptions{}); putErr != nil {
			break
		}
		stored = append(stored, data)
	}
	if !errors.Is(putErr, syscall.ENOSPC) {
		t.Fatalf("Put on a full disk: error = %v, want ENOSPC", putErr)
	}
	t.Logf("disk full after %d chunks: %v", len(stored), putErr)
	if names := readDirNames(t, filepath.Join(dir, "tmp")); len(names) != len(stored) {
		t.Errorf("tmp/ holds %d files for %d chunks: a partial chunk was left behind", len(names), len(stored))
	}
	if err := s.Sync(t.Context()); err != nil {
		t.Fatalf("Sync on a full disk: %v", err)
	}
	for _, data := range stored {
		got, err := s.Get(t.Context(), chunks.Sum(data))
		if err != nil || string(got) != string(data) {
			t.Fatalf("Get after disk full: %v", err)
		}
	}
	if st, err := s.Stats(t.Context()); err != nil || st.Chunks != int64(len(stored)) {
		t.Errorf("Stats = %+v, %v; want %d chunks", st, err, len(stored))
	}
	// Freeing space makes Put work again.
	if err := s.Delete(t.Context(), chunks.Sum(stored[0])); err != nil {
		t.Fatal(err)
	}
	data := chunkstest.Random(300<<10, 1000)
	if err := s.Put(t.Context(), chunks.Sum(data), data, chunks.PutOptions{}); err != nil {
		t.Errorf("Put after freeing space: %v", err)
	}
}
