package fs

import (
	"context"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/cairn-storage/cairn/chunks"
)

// TestDedup writes the same 256 MiB twice, then a copy shifted by one
// byte, with the production chunking parameters, and measures how much
// the physical store grows.
func TestDedup(t *testing.T) {
	size := 256 << 20
	if testing.Short() {
		size = 64 << 20
	}
	ctx := context.Background()
	e := newEnv(t)
	e.fs.opts.Chunking = chunks.DefaultParams
	e.fs.opts.FileDirty = 3 * int64(chunks.DefaultParams.Max)
	v := e.volume(t, "dd", VolumeConfig{})
	data := make([]byte, size+1)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < len(data); i += 8 {
		x := rng.Uint64()
		for j := 0; j < 8 && i+j < len(data); j++ {
			data[i+j] = byte(x >> (8 * j))
		}
	}
	write := func(name string, p []byte) {
		a := must[Attr](t)(v.Mknod(ctx, nil, RootIno, name, syscall.S_IFREG|0o644, 0))
		h := must[*Handle](t)(v.Open(ctx, nil, a.Ino, syscall.O_WRONLY))
		for off := 0; off < len(p); off += 1 << 20 {
			must[int](t)(h.Write(ctx, p[off:min(len(p), off+1<<20)], int64(off)))
		}
		if err := h.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	stored := func() int64 {
		s, err := e.store.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s.StoredBytes
	}
	write("a", data[1:])
	first := stored()
	write("b", data[1:])
	if grew := stored() - first; float64(grew) > 0.01*float64(first) {
		t.Errorf("identical copy grew the store by %d bytes (%.2f%%)", grew, 100*float64(grew)/float64(first))
	}
	before := stored()
	write("shifted", data) // one byte inserted at the front
	grew := stored() - before
	shared := 1 - float64(grew)/float64(size)
	t.Logf("first copy %d bytes stored; shifted copy shares %.1f%%", first, 100*shared)
	if shared < 0.90 {
		t.Errorf("shifted copy shares only %.1f%% of its bytes", 100*shared)
	}
}
