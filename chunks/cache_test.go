package chunks_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/chunks/chunkstest"
)

func TestCache(t *testing.T) {
	chunkstest.Test(t, func(t *testing.T) chunks.Store {
		return chunks.NewCache(openLocal(t, t.TempDir(), chunks.LocalOptions{}), 4<<20)
	})
}

// countingStore counts the Gets that reach the store, and can hold them
// until release is closed.
type countingStore struct {
	chunks.Store
	gets    atomic.Int64
	release chan struct{} // nil: don't block
}

func (s *countingStore) Get(ctx context.Context, id chunks.ID) ([]byte, error) {
	s.gets.Add(1)
	if s.release != nil {
		select {
		case <-s.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.Store.Get(ctx, id)
}

func putChunk(t *testing.T, s chunks.Store, n int, seed uint64) (chunks.ID, []byte) {
	t.Helper()
	data := chunkstest.Random(n, seed)
	id := chunks.Sum(data)
	if err := s.Put(t.Context(), id, data, chunks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	return id, data
}

func TestCacheHitsAndEviction(t *testing.T) {
	under := &countingStore{Store: openLocal(t, t.TempDir(), chunks.LocalOptions{})}
	const size = 100 << 10
	c := chunks.NewCache(under, 3*size+1000) // room for three chunks
	a, _ := putChunk(t, c, size, 1)
	b, _ := putChunk(t, c, size, 2)
	cc, _ := putChunk(t, c, size, 3)
	get := func(id chunks.ID) {
		t.Helper()
		if _, err := c.Get(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []chunks.ID{a, b, cc, a, b, cc} {
		get(id)
	}
	if n := under.gets.Load(); n != 3 {
		t.Fatalf("%d Gets reached the store for three chunks read twice, want 3", n)
	}
	under.gets.Store(0)
	get(a) // a is now the most recently used
	d, _ := putChunk(t, c, size, 4)
	get(d) // a miss that evicts b, the least recently used
	get(a)
	get(cc)
	if n := under.gets.Load(); n != 1 {
		t.Fatalf("%d Gets reached the store, want 1", n)
	}
	get(b)
	if n := under.gets.Load(); n != 2 {
		t.Fatalf("%d Gets reached the store after b was evicted, want 1", n)
	}
	// A chunk bigger than the whole cache is served but not cached.
	big, _ := putChunk(t, c, 4*size, 5)
	get(big)
	get(big)
	if n := under.gets.Load(); n != 4 {
		t.Errorf("%d Gets reached the store, want 3", n)
	}
}

func TestCacheDeleteEvicts(t *testing.T) {
	c := chunks.NewCache(openLocal(t, t.TempDir(), chunks.LocalOptions{}), 1<<20)
	id, _ := putChunk(t, c, 1000, 1)
	if _, err := c.Get(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(t.Context(), id); !errors.Is(err, chunks.ErrNotFound) {
		t.Errorf("Get after Delete: error = %v, want ErrNotFound", err)
	}
}

// TestCacheSharedMiss checks that concurrent misses of a chunk read the
// store once, and that a reader whose context ends doesn't fail the
// others.
func TestCacheSharedMiss(t *testing.T) {
	local := openLocal(t, t.TempDir(), chunks.LocalOptions{})
	id, data := putChunk(t, local, 1000, 1)
	under := &countingStore{Store: local, release: make(chan struct{})}
	c := chunks.NewCache(under, 1<<20)

	// The first reader gives up; the store sees its Get.
	ctx, cancel := context.WithCancel(t.Context())
	firstDone := make(chan error)
	go func() {
		_, err := c.Get(ctx, id)
		firstDone <- err
	}()
	for under.gets.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			got, err := c.Get(t.Context(), id)
			if err != nil || string(got) != string(data) {
				t.Errorf("Get = %d bytes, %v", len(got), err)
			}
		})
	}
	time.Sleep(20 * time.Millisecond) // let the readers queue behind the first
	cancel()
	if err := <-firstDone; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled Get: error = %v, want context.Canceled", err)
	}
	time.Sleep(20 * time.Millisecond)
	close(under.release)
	wg.Wait()
	// One canceled read, one read for the ten others.
	if n := under.gets.Load(); n != 2 {
		t.Errorf("%d Gets reached the store, want 2", n)
	}
}

func TestCacheDisabled(t *testing.T) {
	s := openLocal(t, t.TempDir(), chunks.LocalOptions{})
	if c := chunks.NewCache(s, 0); c != chunks.Store(s) {
		t.Errorf("NewCache(s, 0) = %T, want s itself", c)
	}
}
