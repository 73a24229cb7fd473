package fs

import (
	"bytes"
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/chunks/chunkstest"
)

// countingStore counts the Gets that reach the real store below a cache.
type countingStore struct {
	chunks.Store
	gets atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, id chunks.ID) ([]byte, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, id)
}

// TestSequentialPrefetch reads a file from a cold cache: one read starts
// fetching several chunks ahead at once (up to prefetchers), and a whole
// sequential read fetches each chunk once.
func TestSequentialPrefetch(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.volume(t, "v", VolumeConfig{})
	data := chunkstest.Random(2<<20, 7)
	ino := writeFile(t, v, RootIno, "f", data)
	if err := e.fs.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	below := &countingStore{Store: e.store}
	cold := must[*FS](t)(New(e.kv, chunks.NewCache(below, 64<<20), Options{Chunking: testParams}))
	cv := must[*Volume](t)(cold.OpenVolume(ctx, "v"))
	h := must[*Handle](t)(cv.Open(ctx, nil, ino, syscall.O_RDONLY))
	defer h.Release(ctx)

	buf := make([]byte, 8<<10) // inside the first chunk (at least Min bytes)
	if _, err := h.Read(ctx, buf, 0); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for below.gets.Load() < 1+prefetchers && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := below.gets.Load(); n < 1+prefetchers {
		t.Fatalf("after one read: %d chunks fetched, want the one read and %d ahead", n, prefetchers)
	}
	got := make([]byte, len(data))
	for off := 0; off < len(data); off += 128 << 10 {
		if _, err := h.Read(ctx, got[off:min(off+128<<10, len(data))], int64(off)); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatal("sequential read returned other bytes")
	}
	time.Sleep(50 * time.Millisecond) // let the last prefetches land
	h.Release(ctx)
	chunkIDs := map[chunks.ID]bool{}
	for _, x := range h.f.ext {
		chunkIDs[x.Chunk] = true
	}
	if n := below.gets.Load(); n > int64(len(chunkIDs)) {
		t.Errorf("%d fetches for %d chunks: prefetched chunks were fetched again", n, len(chunkIDs))
	}
}
