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

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs"
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
}

// Data is an open data directory.
type Data struct {
	Dir    string
	KV     *badgerkv.KV
	Local  *chunks.Local
	Chunks chunks.Store // Local behind the cache
	FS     *fs.FS
}

// Open opens (creating if needed) the data directory dir.
func Open(dir string, opts Options) (*Data, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 256 << 20
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	kv, err := badgerkv.Open(filepath.Join(dir, "meta"), badgerkv.Options{Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("open metadata in %s: %w", dir, err)
	}
	local, err := chunks.OpenLocal(dir, chunks.LocalOptions{})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open chunk store in %s: %w", dir, err), kv.Close())
	}
	store := chunks.NewCache(local, opts.CacheBytes)
	fsOpts := opts.FS
	if fsOpts.Logger == nil {
		fsOpts.Logger = opts.Logger
	}
	fsys, err := fs.New(kv, store, fsOpts)
	if err != nil {
		return nil, errors.Join(err, store.Close(), kv.Close())
	}
	d := &Data{Dir: dir, KV: kv, Local: local, Chunks: store, FS: fsys}
	if err := fsys.ResumeDeletes(context.Background()); err != nil {
		return nil, errors.Join(fmt.Errorf("finish interrupted volume deletions: %w", err), d.Close())
	}
	return d, nil
}

// Close flushes and syncs everything, then closes the stores.
func (d *Data) Close() error {
	err := d.FS.Close(context.Background())
	return errors.Join(err, d.Chunks.Close(), d.KV.Close())
}
