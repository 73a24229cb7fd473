// Package badgerkv implements meta.KV on an embedded badger v4 database: the
// single-node metadata engine, owned by exactly one process.
//
// Durability: writes are not fsync'd on commit (SyncWrites is off). A
// committed Update has reached the operating system, so it survives a crash
// of the process; it survives a power loss once Sync has returned.
//
// Isolation: transactions are snapshot-isolated, and badger detects
// read-write conflicts on every key read with Get or visited by Scan, which
// makes them serializable except for phantoms: an insert into a range that a
// concurrent Scan did not see is not a conflict. A caller that decides on the
// absence of keys in a range (an empty directory, say) must also read a key
// that every inserter writes (the directory's inode).
//
// Keys must be non-empty, at most 65000 bytes, and must not start with
// "!badger!" (badger's internal namespace).
package badgerkv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/cairn-storage/cairn/fs/meta"
)

var (
	// ErrInUse is returned (wrapped) by Open when another process, or
	// another KV in this process, has the directory open.
	ErrInUse = errors.New("in use by another cairn process")
	// ErrClosed is returned by operations on a closed KV.
	ErrClosed = errors.New("badgerkv: store is closed")
)

// Defaults sized for a FUSE mount process that must stay well under 512 MiB
// of RSS; see Options.
const (
	DefaultMemTableSize   = 16 << 20
	DefaultBlockCacheSize = 32 << 20
	DefaultIndexCacheSize = 16 << 20
	DefaultGCInterval     = 10 * time.Minute

	numMemtables     = 3
	numCompactors    = 2 // badger's minimum when compaction is on
	valueThreshold   = 4 << 10
	valueLogFileSize = 128 << 20
	gcDiscardRatio   = 0.5
	memValueLimit    = 1 << 20 // badger's maximum value threshold
)

// Options tunes Open. The zero value is the production default.
type Options struct {
	// InMemory keeps the whole store in memory and persists nothing (for
	// tests); Open's dir must then be "". In-memory values must be shorter
	// than 1 MiB.
	InMemory bool
	// MemTableSize is the size of one memtable (badger keeps up to three);
	// it also bounds a transaction to about 15% of it. 0 means
	// DefaultMemTableSize.
	MemTableSize int64
	// BlockCacheSize and IndexCacheSize bound the caches of SSTable blocks
	// and indexes. 0 means the defaults.
	BlockCacheSize int64
	IndexCacheSize int64
	// GCInterval is the period of value-log garbage collection. 0 means
	// DefaultGCInterval; a negative value disables it.
	GCInterval time.Duration
	// Logger receives badger's warnings and errors. nil means slog.Default().
	Logger *slog.Logger
}

// KV is a meta.KV backed by badger. It is safe for concurrent use.
type KV struct {
	db       *badger.DB
	maxValue int // if > 0, the limit on value size (in-memory mode)
	unlock   func() error
	stopGC   chan struct{}
	gcDone   chan struct{}
	gate     meta.CallGate // calls in progress; Close waits for them
	closeMu  sync.Mutex
	err      error // result of the first Close
}

var _ meta.KV = (*KV)(nil)

// Open opens (creating if needed) the store in dir. It fails with an error
// wrapping ErrInUse if another process has dir open.
func Open(dir string, opts Options) (*KV, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("component", "badger", "dir", dir)

	bopts, err := badgerOptions(dir, opts)
	if err != nil {
		return nil, err
	}
	bopts = bopts.WithLogger(slogLogger{logger})

	kv := &KV{unlock: func() error { return nil }}
	if opts.InMemory {
		kv.maxValue = memValueLimit
	} else {
		unlock, err := lockDir(dir)
		if err != nil {
			return nil, err
		}
		kv.unlock = unlock
	}
	db, err := badger.Open(bopts)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("badgerkv: open %s: %w", dir, err), kv.unlock())
	}
	kv.db = db

	interval := opts.GCInterval
	if interval == 0 {
		interval = DefaultGCInterval
	}
	if !opts.InMemory && interval > 0 {
		kv.stopGC, kv.gcDone = make(chan struct{}), make(chan struct{})
		go kv.gcLoop(interval, logger)
	}
	return kv, nil
}

func badgerOptions(dir string, opts Options) (badger.Options, error) {
	var bopts badger.Options
	switch {
	case opts.InMemory && dir != "":
		return bopts, fmt.Errorf("badgerkv: in-memory store given directory %q", dir)
	case opts.InMemory:
		// badger keeps in-memory values in the LSM tree, so the value
		// threshold is what limits their size: use badger's maximum.
		bopts = badger.DefaultOptions("").WithInMemory(true).WithValueThreshold(memValueLimit)
	case dir == "":
		return bopts, errors.New("badgerkv: no directory given")
	default:
		bopts = badger.DefaultOptions(dir).
			WithValueThreshold(valueThreshold).
			WithValueLogFileSize(valueLogFileSize).
			WithVerifyValueChecksum(true)
	}
	return bopts.
		WithSyncWrites(false).
		WithMemTableSize(orDefault(opts.MemTableSize, DefaultMemTableSize)).
		WithNumMemtables(numMemtables).
		WithBlockCacheSize(orDefault(opts.BlockCacheSize, DefaultBlockCacheSize)).
		WithIndexCacheSize(orDefault(opts.IndexCacheSize, DefaultIndexCacheSize)).
		WithNumCompactors(numCompactors).
		WithNumGoroutines(2).
		WithChecksumVerificationMode(options.OnBlockRead), nil
}

func orDefault(v, def int64) int64 {
	if v > 0 {
		return v
	}
	return def
}

// enter registers a call in progress; the caller must call kv.gate.Leave.
func (kv *KV) enter() error {
	if !kv.gate.Enter() {
		return ErrClosed
	}
	return nil
}

// View implements meta.KV. fn reads a badger snapshot taken when View
// starts.
func (kv *KV) View(ctx context.Context, fn func(meta.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := kv.enter(); err != nil {
		return err
	}
	defer kv.gate.Leave()
	btx := kv.db.NewTransaction(false)
	defer btx.Discard()
	return fn(reader{btx})
}

// Sync implements meta.KV.
func (kv *KV) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := kv.enter(); err != nil {
		return err
	}
	defer kv.gate.Leave()
	if err := kv.db.Sync(); err != nil {
		return fmt.Errorf("badgerkv: sync: %w", err)
	}
	return nil
}

// Close implements meta.KV. It waits for calls in progress; calls that
// start afterwards fail with ErrClosed. Closing twice returns the first
// result.
func (kv *KV) Close() error {
	kv.closeMu.Lock()
	defer kv.closeMu.Unlock()
	if kv.gate.Shut() {
		return kv.err
	}
	if kv.stopGC != nil {
		close(kv.stopGC)
		<-kv.gcDone
	}
	kv.gate.Wait()
	var errs []error
	if err := kv.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("badgerkv: close: %w", err))
	}
	if err := kv.unlock(); err != nil {
		errs = append(errs, fmt.Errorf("badgerkv: unlock: %w", err))
	}
	kv.err = errors.Join(errs...)
	return kv.err
}
