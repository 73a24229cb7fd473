package chunks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// syncWorkers is how many fsyncs Sync keeps in flight. Devices and the
// ext4 journal batch concurrent flushes, so a few in parallel cost little
// more than one; many more only add contention.
const syncWorkers = 8

// Sync makes every chunk Put before the call durable; see Syncer.
//
// If a chunk's data can't be flushed, that chunk is dropped (it could be
// silently incomplete after a failed fsync) and Sync returns an error
// naming it: the caller must Put it again. Other failures leave the
// chunks pending for the next Sync.
func (l *Local) Sync(ctx context.Context) error {
	if err := l.check(ctx); err != nil {
		return fmt.Errorf("sync chunk store %s: %w", l.dir, err)
	}
	if err := l.sync(); err != nil {
		return fmt.Errorf("sync chunk store %s: %w", l.dir, err)
	}
	return nil
}

// sync is Sync without the closed check, for Close.
func (l *Local) sync() error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()

	l.mu.Lock()
	batch := make([]pendingChunk, 0, len(l.pending))
	for _, p := range l.pending {
		batch = append(batch, p)
	}
	dirs := l.dirtyDirs
	l.dirtyDirs = make(map[string]bool)
	l.mu.Unlock()

	// 1. Flush each chunk's data while it is still in tmp/.
	tmps := make([]string, len(batch))
	for i, p := range batch {
		tmps[i] = p.tmp
	}
	var errs []error
	ferrs := forEach(tmps, fsyncPath)
	// 2. Give the flushed chunks their final names.
	renamed := make([]ID, 0, len(batch))
	for i, p := range batch {
		if err := ferrs[i]; err != nil {
			l.drop(p)
			errs = append(errs, fmt.Errorf("chunk %s: fsync: %w (chunk dropped)", p.info.ID, err))
			continue
		}
		if err := l.install(p, dirs); err != nil {
			errs = append(errs, fmt.Errorf("chunk %s: %w", p.info.ID, err))
			continue
		}
		renamed = append(renamed, p.info.ID)
	}
	l.mu.Lock()
	for _, id := range renamed {
		delete(l.pending, id)
	}
	l.mu.Unlock()

	// 3. Make the new names (and Delete's removals) durable.
	paths := make([]string, 0, len(dirs))
	for d := range dirs {
		paths = append(paths, d)
	}
	for i, err := range forEach(paths, fsyncPath) {
		if err != nil {
			l.markDirty(paths[i]) // retry at the next Sync
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// install renames a flushed chunk to its final path, creating its
// directories on first use, and adds the directories whose entries
// changed to dirs.
func (l *Local) install(p pendingChunk, dirs map[string]bool) error {
	id := p.info.ID
	path := l.path(id)
	sh := &l.shards[id[0]]
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if err := l.renameInto(p.tmp, path, dirs); err != nil {
		return err
	}
	if !sh.scanned {
		// The background scan has yet to reach this shard and will count
		// the file; Put already counted it.
		l.counts.add(-1, -p.info.Size, -p.info.Stored)
	}
	return nil
}

// renameInto moves a synced temporary file to its chunk path, creating
// the chunk's directories on first use, and adds the directories whose
// entries changed to dirs.
func (l *Local) renameInto(tmp, path string, dirs map[string]bool) error {
	err := os.Rename(tmp, path)
	if errors.Is(err, fs.ErrNotExist) {
		if err = l.mkdirs(path, dirs); err == nil {
			err = os.Rename(tmp, path)
		}
	}
	if err != nil {
		return err
	}
	dirs[filepath.Dir(path)] = true
	return nil
}

// mkdirs creates the two directory levels above a chunk path. A new
// directory's entry lives in its parent, which becomes dirty.
func (l *Local) mkdirs(path string, dirs map[string]bool) error {
	sub := filepath.Dir(path)
	top := filepath.Dir(sub)
	for _, d := range []string{top, sub} {
		switch err := os.Mkdir(d, 0o700); {
		case err == nil:
			dirs[filepath.Dir(d)] = true
			if d == top {
				setTopDir(d, l.log)
			}
		case !errors.Is(err, fs.ErrExist):
			return err
		}
	}
	return nil
}

// drop forgets a pending chunk whose data could not be made durable.
func (l *Local) drop(p pendingChunk) {
	l.log.Error("chunks: dropping chunk that could not be synced", "id", p.info.ID, "path", p.tmp)
	l.mu.Lock()
	delete(l.pending, p.info.ID)
	l.mu.Unlock()
	l.counts.add(-1, -p.info.Size, -p.info.Stored)
	os.Remove(p.tmp)
}

// markDirty records that dir must be fsynced by the next Sync.
func (l *Local) markDirty(dir string) {
	l.mu.Lock()
	l.dirtyDirs[dir] = true
	l.mu.Unlock()
}

// fsyncPath flushes a file or directory to stable storage. Linux fsyncs
// the inode whatever the open mode, so read-only is enough.
func fsyncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// forEach runs fn on every path with up to syncWorkers goroutines and
// returns the errors, indexed like paths.
func forEach(paths []string, fn func(string) error) []error {
	errs := make([]error, len(paths))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(syncWorkers, len(paths)) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(paths)); i = next.Add(1) - 1 {
				errs[i] = fn(paths[i])
			}
		})
	}
	wg.Wait()
	return errs
}

// Delete removes chunk id; see Deleter. The removal is durable after the
// next Sync.
func (l *Local) Delete(ctx context.Context, id ID) error {
	if err := l.check(ctx); err != nil {
		return fmt.Errorf("chunk %s: delete: %w", id, err)
	}
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	p, ok := l.pending[id]
	delete(l.pending, id)
	l.mu.Unlock()
	if ok {
		l.counts.add(-1, -p.info.Size, -p.info.Stored)
		if err := os.Remove(p.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			// Harmless: OpenLocal empties tmp/.
			l.log.Warn("chunks: remove deleted chunk", "id", id, "err", err)
		}
		return nil
	}
	path := l.path(id)
	sh := &l.shards[id[0]]
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	info, err := statFile(path, id) // for the counters
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil && !errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("chunk %s: delete: %w", id, err)
	}
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("chunk %s: delete: %w", id, err)
	}
	if sh.scanned { // else the scan won't find it, and never counted it
		l.counts.add(-1, -info.Size, -info.Stored)
	}
	l.markDirty(filepath.Dir(path))
	return nil
}
