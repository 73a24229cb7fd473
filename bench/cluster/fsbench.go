package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/cluster/pki"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fs/meta/badgerkv"
)

// The fs scenarios write one big file sequentially through the file
// system core, wired as package datadir wires a node: badger metadata,
// the chunk store behind a 256 MiB read cache, default fs.Options
// (FastCDC chunking, 4 chunks stored at a time).

const (
	fsBlock      = 1 << 20   // bytes per Write and Read call
	fsCacheBytes = 256 << 20 // datadir's default read cache
)

// fsStores is what an fs scenario runs on: the store the file is written
// through, and another (or the same) to read it back through.
type fsStores struct {
	write, read chunks.Store
	tb          *testbed
}

// runFSOnce writes raw as one file through an fs.FS over a fresh store
// (plain local, or a cluster's Store on n0), fsyncs it, then opens the
// file system again with an empty cache over the store of n1 and reads
// the file back.
func runFSOnce(ctx context.Context, cfg *config, sc scenario, raw []byte, dir string, ca *pki.CA) (w, r phase, fallbacks int64, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return w, r, 0, err
	}
	log := newLogger(cfg.Verbose)
	var st fsStores
	if sc.Nodes == 0 {
		local, err := chunks.OpenLocal(filepath.Join(dir, "chunks"), chunks.LocalOptions{Logger: log})
		if err != nil {
			return w, r, 0, err
		}
		defer func() { err = errors.Join(err, local.Close()) }()
		st.write, st.read = local, local
	} else {
		opts := clusterOpts{nodes: sc.Nodes, replicas: sc.Replicas}
		if st.tb, err = startCluster(ctx, filepath.Join(dir, "cluster"), ca, opts, log); err != nil {
			return w, r, 0, err
		}
		defer func() { err = errors.Join(err, st.tb.stop()) }()
		st.write = st.tb.members[0].node.Store()
		st.read = st.tb.members[1%sc.Nodes].node.Store()
	}
	kv, err := badgerkv.Open(filepath.Join(dir, "meta"), badgerkv.Options{Logger: log})
	if err != nil {
		return w, r, 0, fmt.Errorf("open metadata: %w", err)
	}
	defer func() { err = errors.Join(err, kv.Close(), os.RemoveAll(dir)) }()

	var ino fs.Ino
	w, err = timed(st.tb, func() (err error) {
		ino, err = fsWrite(ctx, kv, st.write, raw, log)
		return err
	})
	w.Bytes, w.Chunks = int64(len(raw)), 0
	if err != nil {
		return w, r, 0, fmt.Errorf("fs write: %w", err)
	}
	if st.tb != nil {
		if d := st.tb.degraded(); d > 0 {
			return w, r, 0, fmt.Errorf("fs write: %d puts acknowledged with fewer than R copies", d)
		}
		fallbacks = int64(st.tb.counter("cairn_cluster_placement_fallbacks_total"))
	}
	r, err = timed(st.tb, func() error { return fsRead(ctx, kv, st.read, ino, raw, log) })
	r.Bytes = int64(len(raw))
	if err != nil {
		return w, r, fallbacks, fmt.Errorf("fs read: %w", err)
	}
	return w, r, fallbacks, nil
}

// fsWrite creates volume "bench" and writes raw to its file "big" in
// fsBlock writes, then fsyncs it and closes the file system.
func fsWrite(ctx context.Context, kv *badgerkv.KV, store chunks.Store, raw []byte, log *slog.Logger) (ino fs.Ino, err error) {
	cache := chunks.NewCache(store, fsCacheBytes)
	f, err := fs.New(kv, cache, fs.Options{Logger: log})
	if err != nil {
		return 0, err
	}
	defer func() { err = errors.Join(err, f.Close(ctx)) }()
	if _, err := f.CreateVolume(ctx, "bench", fs.VolumeConfig{}); err != nil {
		return 0, err
	}
	v, err := f.OpenVolume(ctx, "bench")
	if err != nil {
		return 0, err
	}
	defer func() { err = errors.Join(err, v.Close(ctx)) }()
	a, err := v.Mknod(ctx, nil, fs.RootIno, "big", syscall.S_IFREG|0o644, 0)
	if err != nil {
		return 0, err
	}
	h, err := v.OpenCreated(ctx, nil, a.Ino, syscall.O_WRONLY)
	if err != nil {
		return 0, err
	}
	for off := 0; off < len(raw); off += fsBlock {
		p := raw[off:min(off+fsBlock, len(raw))]
		if n, err := h.Write(ctx, p, int64(off)); err != nil || n != len(p) {
			return 0, errors.Join(fmt.Errorf("write at %d: %d of %d bytes", off, n, len(p)), err, h.Release(ctx))
		}
	}
	if err := h.Fsync(ctx); err != nil {
		return 0, errors.Join(fmt.Errorf("fsync: %w", err), h.Release(ctx))
	}
	return a.Ino, h.Release(ctx)
}

// fsRead opens the file system again over store, with an empty cache,
// and reads file ino back in fsBlock reads, comparing it with raw.
func fsRead(ctx context.Context, kv *badgerkv.KV, store chunks.Store, ino fs.Ino, raw []byte, log *slog.Logger) (err error) {
	f, err := fs.New(kv, chunks.NewCache(store, fsCacheBytes), fs.Options{Logger: log})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close(ctx)) }()
	v, err := f.OpenVolume(ctx, "bench")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, v.Close(ctx)) }()
	h, err := v.Open(ctx, nil, ino, syscall.O_RDONLY)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, h.Release(ctx)) }()
	buf := make([]byte, fsBlock)
	for off := 0; off < len(raw); off += fsBlock {
		want := raw[off:min(off+fsBlock, len(raw))]
		for got := 0; got < len(want); {
			n, err := h.Read(ctx, buf[got:len(want)], int64(off+got))
			if err != nil {
				return fmt.Errorf("read at %d: %w", off+got, err)
			}
			if n == 0 {
				return fmt.Errorf("read at %d: end of file, want %d bytes", off+got, len(raw))
			}
			got += n
		}
		if !bytes.Equal(buf[:len(want)], want) {
			return fmt.Errorf("read at %d: the data differs from what was written", off)
		}
	}
	return nil
}
