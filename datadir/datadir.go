// Package datadir opens a node's data directory: the badger metadata
// store, the local chunk store behind a read cache, and the filesystem
// over them. It is wiring shared by the CLI commands and by tests.
package datadir

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fs/meta"
	"github.com/cairn-storage/cairn/fs/meta/badgerkv"
)

// EnvVar names the environment variable that overrides the default
// data directory.
const EnvVar = "CAIRN_DATA"

// Default returns the data directory to use when none is given:
// $CAIRN_DATA, else /var/lib/cairn for root, else ~/.local/share/cairn.
func Default() string {
	if d := os.Getenv(EnvVar); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/lib/cairn"
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "cairn")
	}
	return "cairn-data"
}

// Options tune Open.
type Options struct {
	Logger *slog.Logger
	// CacheBytes sizes the in-memory cache of verified chunks (default 256 MiB: the working set of random reads on a 256 MiB file).
	CacheBytes int64
	// FS tunes the filesystem.
	FS fs.Options
	// OpenKV, if set, opens the metadata store instead of badger in
	// DIR/meta (etcd for clusters); the returned function closes it.
	OpenKV func() (meta.KV, func() error, error)
	// OpenChunks, if set, turns the local chunk store into the one the
	// filesystem uses (a cluster's). With NoLocal, local is nil.
	OpenChunks func(local *chunks.Local) (Backend, error)
	// NoLocal skips the local chunk store: a gateway holds no chunks.
	NoLocal bool
	// LockWait bounds how long Open waits while another process holds
	// the data directory (it may be stopping) before failing with an
	// error naming it. 0 means DefaultLockWait; negative, no waiting.
	LockWait time.Duration
}

// Backend is the chunk store OpenChunks makes of the local one: a
// cluster's, with the cluster's side of snapshot consistency.
type Backend struct {
	Store chunks.Store
	// Stop runs after Store is closed and before the local store is.
	Stop func() error
	// Freeze flushes and holds the volumes' writes in the cluster's other
	// processes before a snapshot's cut (fs.SnapshotOptions.Freeze).
	Freeze fs.Freezer
	// AnswerFreeze, once the filesystem is open, is given its
	// FreezeVolumes, to answer the other processes' freezes.
	AnswerFreeze func(fs.Freezer)
	// Space, for a client of a cluster, is where the chunks live.
	Space Space
}

// Space is a cluster's storage as its clients see it.
type Space interface {
	// Capacity returns the bytes of chunks the storage can still take,
	// and in all, after replication.
	Capacity(ctx context.Context) (free, total uint64, err error)
	// Check fails while no storage node can be reached.
	Check(ctx context.Context) error
	// Redundancy fails while new chunks get fewer replicas than asked.
	Redundancy(ctx context.Context) error
}

// Data is an open data directory.
type Data struct {
	Dir    string
	KV     meta.KV
	Local  *chunks.Local // nil on a gateway
	Chunks chunks.Store  // what the filesystem uses, behind the cache
	FS     *fs.FS
	// Freeze, in a cluster, flushes and holds the other processes' writes
	// before a snapshot's cut; nil for a single process.
	Freeze fs.Freezer
	// Space is the cluster's storage for a client with no local chunks.
	Space Space

	closers []func() error // run in order by Close, after FS and Chunks
}

// Open opens (creating if needed) the data directory dir.
func Open(dir string, opts Options) (d *Data, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 256 << 20
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	d = &Data{Dir: dir}
	var undo []func() error // closes what is open if Open fails
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				err = errors.Join(err, undo[i]())
			}
		}
	}()
	kv, closeKV, err := openKV(dir, opts)
	if err != nil {
		return nil, err
	}
	undo = append(undo, closeKV)
	var store chunks.Store
	if !opts.NoLocal {
		if d.Local, err = openLocal(dir, opts); err != nil {
			return nil, err
		}
		undo = append(undo, d.Local.Close)
		store = d.Local
	}
	backend := Backend{Store: store, Stop: func() error { return nil }}
	if opts.OpenChunks != nil {
		if backend, err = opts.OpenChunks(d.Local); err != nil {
			return nil, err
		}
		undo = append(undo, backend.Stop)
		store, d.Freeze, d.Space = backend.Store, backend.Freeze, backend.Space
	}
	if store == nil {
		return nil, errors.New("no chunk store: a gateway needs a cluster")
	}
	d.Chunks = chunks.NewCache(store, opts.CacheBytes)
	fsOpts := opts.FS
	if fsOpts.Logger == nil {
		fsOpts.Logger = opts.Logger
	}
	if d.FS, err = fs.New(kv, d.Chunks, fsOpts); err != nil {
		return nil, err
	}
	if backend.AnswerFreeze != nil {
		backend.AnswerFreeze(d.FS.FreezeVolumes)
	}
	d.KV = kv
	d.closers = []func() error{backend.Stop}
	if d.Local != nil {
		d.closers = append(d.closers, d.Local.Close)
	}
	d.closers = append(d.closers, closeKV)
	if err := d.FS.ResumeDeletes(context.Background()); err != nil {
		return nil, fmt.Errorf("finish interrupted volume deletions: %w", err)
	}
	return d, nil
}

func openKV(dir string, opts Options) (meta.KV, func() error, error) {
	if opts.OpenKV != nil {
		return opts.OpenKV()
	}
	metaDir := filepath.Join(dir, "meta")
	owner := func() int { return badgerkv.Owner(metaDir) }
	var kv *badgerkv.KV
	err := waitUnlocked(dir, opts, owner, func() (err error) {
		kv, err = badgerkv.Open(metaDir, badgerkv.Options{Logger: opts.Logger})
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("open metadata in %s: %w", dir, err)
	}
	return kv, kv.Close, nil
}

func openLocal(dir string, opts Options) (*chunks.Local, error) {
	var l *chunks.Local
	// The chunk store records no owner; and once this process holds the
	// metadata store, that store's record names this process.
	err := waitUnlocked(dir, opts, nil, func() (err error) {
		l, err = chunks.OpenLocal(dir, chunks.LocalOptions{Logger: opts.Logger})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open chunk store in %s: %w", dir, err)
	}
	return l, nil
}

// Close flushes and syncs everything, then closes the stores: the cache
// and the store under it, the cluster node, the local chunks, the KV.
func (d *Data) Close() error {
	err := errors.Join(d.FS.Close(context.Background()), d.Chunks.Close())
	for _, c := range d.closers {
		err = errors.Join(err, c())
	}
	return err
}
