package fs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs/meta"
)

// ChunkStore is what the filesystem needs of a chunk store.
type ChunkStore interface {
	chunks.Getter
	chunks.Putter
	chunks.Syncer
}

// Options tune a filesystem. The zero value gives sane defaults.
type Options struct {
	// Logger receives the filesystem's logs; slog.Default() if nil.
	Logger *slog.Logger
	// Chunking sets the content-defined chunking bounds.
	Chunking chunks.Params
	// MaxDirty bounds the bytes buffered by all open files together;
	// beyond it writers flush their own buffers first. Default 64 MiB.
	MaxDirty int64
	// FileDirty is how many buffered bytes make one file flush the
	// chunks it has completed. Default 3 × Chunking.Max.
	FileDirty int64
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Chunking == (chunks.Params{}) {
		o.Chunking = chunks.DefaultParams
	}
	if o.MaxDirty <= 0 {
		o.MaxDirty = 64 << 20
	}
	if o.FileDirty <= 0 {
		o.FileDirty = 3 * int64(o.Chunking.Max)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// FS is a set of volumes stored in one KV and one chunk store.
type FS struct {
	kv    meta.KV
	store ChunkStore
	opts  Options
	log   *slog.Logger

	mu   sync.Mutex
	vols map[string]*Volume

	dirty atomic.Int64 // bytes buffered in all write buffers

	io ioTable // data-path counters by volume ID

	prefetching chan struct{} // a slot per chunk being fetched ahead of readers

	bg sync.WaitGroup // background work (see background)
}

// New returns a filesystem over kv and store.
func New(kv meta.KV, store ChunkStore, opts Options) (*FS, error) {
	opts.setDefaults()
	if err := opts.Chunking.Validate(); err != nil {
		return nil, fmt.Errorf("chunking parameters: %w", err)
	}
	return &FS{kv: kv, store: store, opts: opts, log: opts.Logger, vols: map[string]*Volume{},
		prefetching: make(chan struct{}, prefetchers)}, nil
}

// KV returns the metadata store, for packages built on the filesystem
// (snapshots) that read it at one consistent point.
func (f *FS) KV() meta.KV { return f.kv }

// Sync makes everything written so far durable: every open file's buffer
// is flushed, then chunks and metadata are synced.
func (f *FS) Sync(ctx context.Context) error {
	f.mu.Lock()
	vols := make([]*Volume, 0, len(f.vols))
	for _, v := range f.vols {
		vols = append(vols, v)
	}
	f.mu.Unlock()
	for _, v := range vols {
		release := v.hold()
		err := v.flushAll(ctx)
		release()
		if err != nil {
			return err
		}
	}
	return f.syncStores(ctx)
}

func (f *FS) syncStores(ctx context.Context) error {
	if err := f.store.Sync(ctx); err != nil {
		return fmt.Errorf("sync chunks: %w", ioError(err))
	}
	if err := f.kv.Sync(ctx); err != nil {
		return fmt.Errorf("sync metadata: %w", ioError(err))
	}
	return nil
}

// Close flushes all buffered writes and makes them durable. The KV and
// chunk store stay open: their owner closes them.
func (f *FS) Close(ctx context.Context) error {
	f.bg.Wait()
	return f.Sync(ctx)
}
