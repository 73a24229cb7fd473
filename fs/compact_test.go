package fs

import (
	"context"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"

	"github.com/cairn-storage/cairn/chunks"
)

// syncTracker tells which chunks a store has made durable: a Put is
// durable once a Sync follows it, as chunks.Syncer promises.
type syncTracker struct {
	chunks.Store
	mu      sync.Mutex
	pending map[chunks.ID]bool
}

func (s *syncTracker) Put(ctx context.Context, id chunks.ID, data []byte, opts chunks.PutOptions) error {
	s.mu.Lock()
	s.pending[id] = true
	s.mu.Unlock()
	return s.Store.Put(ctx, id, data, opts)
}

func (s *syncTracker) Sync(ctx context.Context) error {
	s.mu.Lock()
	was := s.pending
	s.pending = map[chunks.ID]bool{}
	s.mu.Unlock()
	err := s.Store.Sync(ctx)
	if err != nil {
		s.mu.Lock()
		for id := range was {
			s.pending[id] = true
		}
		s.mu.Unlock()
	}
	return err
}

// TestCompactionKeepsDurability fsyncs a fragmented file, then lets
// compaction rewrite it: every chunk its committed extents name must be
// durable, or a power cut after compaction would lose data that an fsync
// had made safe.
func TestCompactionKeepsDurability(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tracker := &syncTracker{Store: e.store, pending: map[chunks.ID]bool{}}
	fsys := must[*FS](t)(New(e.kv, tracker, Options{Chunking: testParams, FileDirty: 256 << 10}))
	must[VolumeInfo](t)(fsys.CreateVolume(ctx, "dur", VolumeConfig{}))
	v := must[*Volume](t)(fsys.OpenVolume(ctx, "dur"))
	a := must[Attr](t)(v.Mknod(ctx, nil, RootIno, "f", syscall.S_IFREG|0o644, 0))
	h := must[*Handle](t)(v.Open(ctx, nil, a.Ino, syscall.O_RDWR))
	must[int](t)(h.Write(ctx, make([]byte, 1<<20), 0))
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 1000 {
		p := make([]byte, 512)
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		must[int](t)(h.Write(ctx, p, int64(rng.IntN(1<<20-len(p)))))
		if i%100 == 0 {
			if err := h.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := h.Fsync(ctx); err != nil {
		t.Fatal(err)
	}
	if !h.f.fragmented() {
		t.Fatalf("%d extents: not fragmented enough to compact", len(h.f.ext))
	}
	if err := h.Release(ctx); err != nil {
		t.Fatal(err)
	}
	fsys.bg.Wait()
	h = must[*Handle](t)(v.Open(ctx, nil, a.Ino, syscall.O_RDONLY))
	defer h.Release(ctx)
	if h.f.fragmented() {
		t.Fatalf("%d extents: not compacted", len(h.f.ext))
	}
	tracker.mu.Lock()
	defer tracker.mu.Unlock()
	for _, x := range h.f.ext {
		if tracker.pending[x.Chunk] {
			t.Fatalf("extent at %d names chunk %s, which is not synced", x.Off, x.Chunk)
		}
	}
}
