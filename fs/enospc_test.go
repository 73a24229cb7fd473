//go:build linux

// A tmpfs mount(2) with size= is Linux's.

package fs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/cairn-storage/cairn/chunks"
)

// TestDiskFull fills a small chunk store: the writer gets ENOSPC, what
// was committed before stays readable and fsck finds nothing wrong.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs as a full disk")
	}
	ctx := context.Background()
	small := t.TempDir()
	if err := syscall.Mount("tmpfs", small, "tmpfs", 0, "size=4m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(small, syscall.MNT_DETACH) })
	kv := openTestKV(t, t.TempDir())
	defer kv.Close()
	store, err := chunks.OpenLocal(small, chunks.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	fsys := must[*FS](t)(New(kv, store, Options{Chunking: testParams, FileDirty: 256 << 10}))
	e := &testEnv{fs: fsys, store: store}
	v := e.volume(t, "full", VolumeConfig{})
	keep := bytes.Repeat([]byte("committed "), 100000) // 1 MB
	ino := writeFile(t, v, RootIno, "keep", keep)
	if err := fsys.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	a := must[Attr](t)(v.Mknod(ctx, nil, RootIno, "big", syscall.S_IFREG|0o644, 0))
	h := must[*Handle](t)(v.Open(ctx, nil, a.Ino, syscall.O_WRONLY))
	block := make([]byte, 64<<10)
	var werr error
	for off := 0; off < 16<<20 && werr == nil; off += len(block) {
		for i := range block {
			block[i] = byte(off>>16) ^ byte(i*7)
		}
		_, werr = h.Write(ctx, block, int64(off))
	}
	if werr == nil {
		werr = h.Fsync(ctx)
	}
	if rerr := h.Release(ctx); werr == nil {
		werr = rerr
	}
	if !errors.Is(werr, syscall.ENOSPC) {
		t.Fatalf("writing past a full disk: got %v, want ENOSPC", werr)
	}
	rh := must[*Handle](t)(v.Open(ctx, nil, ino, syscall.O_RDONLY))
	defer rh.Release(ctx)
	if got := readAll(t, rh, len(keep)); !bytes.Equal(got, keep) {
		t.Fatal("committed file damaged by the full disk")
	}
	checkFsck(t, e, 0)
}
