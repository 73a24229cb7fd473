package fs

import (
	"bytes"
	"context"
	"errors"
	"syscall"
	"testing"
)

// TestStoreFailuresAreEIO stops the real stores under a volume: the
// write-back, the fsync and metadata calls fail with EIO (what the FUSE
// and NFS frontends hand on) while the data stays buffered, and errors
// that say more keep their errno.
func TestStoreFailuresAreEIO(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.volume(t, "v", VolumeConfig{})
	a := must[Attr](t)(v.Mknod(ctx, nil, RootIno, "f", syscall.S_IFREG|0o644, 0))
	h := must[*Handle](t)(v.Open(ctx, nil, a.Ino, syscall.O_RDWR))
	data := bytes.Repeat([]byte("buffered "), 10000)
	if _, err := h.Write(ctx, data, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Lookup(ctx, nil, RootIno, "missing"); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("Lookup of a missing name: %v, want ENOENT", err)
	}

	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	err := h.Fsync(ctx)
	wantErrno(t, err, syscall.EIO)
	if err := e.fs.Sync(ctx); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Sync with the chunk store closed: %v, want EIO", err)
	}
	got := make([]byte, len(data))
	if n, err := h.Read(ctx, got, 0); err != nil || !bytes.Equal(got[:n], data) {
		t.Fatalf("read of the buffered write after the failed fsync: %d bytes, %v", n, err)
	}

	if err := e.kv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Lookup(ctx, nil, RootIno, "missing"); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Lookup with the metadata store closed: %v, want EIO", err)
	}
	if _, err := v.Mknod(ctx, nil, RootIno, "g", syscall.S_IFREG|0o644, 0); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Mknod with the metadata store closed: %v, want EIO", err)
	}
	e.kv = nil // closed here: the cleanup has nothing left to close
}
