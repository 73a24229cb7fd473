package fs

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/cairn-storage/cairn/fs/meta"
)

// file is the in-memory state of a regular file that has open handles or
// buffered writes: its committed extents (a cache of the KV, kept exact
// because every change of this process goes through it) and its write
// buffer.
type file struct {
	v   *Volume
	ino Ino

	mu     sync.Mutex
	refs   int
	loaded bool
	ext    extentList
	size   uint64 // including buffered writes
	buf    writeBuffer
	// times of the last buffered write, committed with its data
	mtime      time.Time
	timesDirty bool
	// mode as loaded, to decide on clearing set-user-ID on write
	mode uint32
	// readEnd is where the last read ended, to detect sequential reads;
	// prefetchedTo is how far ahead of them chunks are being fetched.
	readEnd      uint64
	prefetchedTo uint64
	// batches are parts of the buffer being stored in the background,
	// oldest first; batchCond (on mu) signals their end.
	batches   []*batch
	batchCond *sync.Cond
	// purging is set (under v.mu) while release or maybePurge decide
	// whether to reclaim the inode, and closed when they are done;
	// acquire waits for it rather than open an inode being deleted.
	purging chan struct{}
}

// acquire returns the state of ino with one more reference.
func (v *Volume) acquire(ctx context.Context, ino Ino) (*file, error) {
	v.mu.Lock()
	f := v.files[ino]
	for f != nil && f.purging != nil {
		done := f.purging
		v.mu.Unlock()
		<-done
		v.mu.Lock()
		f = v.files[ino]
	}
	if f == nil {
		f = &file{v: v, ino: ino}
		v.files[ino] = f
	}
	f.refs++
	v.mu.Unlock()
	f.mu.Lock()
	var err error
	if !f.loaded {
		err = f.load(ctx)
	}
	f.mu.Unlock()
	if err != nil {
		v.release(ctx, f)
		return nil, err
	}
	return f, nil
}

// load reads the file's size and extents; f.mu is held.
func (f *file) load(ctx context.Context) error {
	if lazy, err := f.v.lazyIn(ctx, f.ino); err != nil {
		return err
	} else if lazy {
		if err := f.v.ensureMaterialized(ctx, f.ino); err != nil {
			return err
		}
	}
	return f.v.view(ctx, func(r reader) error {
		n, err := r.get(f.ino)
		if err != nil {
			return err
		}
		if !n.IsRegular() {
			return fmt.Errorf("inode %d is not a regular file: %w", f.ino, syscall.EINVAL)
		}
		prefix := r.ks.extentPrefix(f.ino)
		var ext extentList
		err = r.r.Scan(prefix, scanEnd(prefix), func(k, val []byte) error {
			e, err := decodeExtent(binary.BigEndian.Uint64(k[len(prefix):]), val)
			if err != nil {
				return fmt.Errorf("inode %d: %w", f.ino, err)
			}
			ext = append(ext, e)
			return nil
		})
		if err != nil {
			return err
		}
		f.ext, f.size, f.mode, f.loaded = ext, n.Size, n.Mode, true
		return nil
	})
}

// release drops a reference; the last one flushes the buffer, forgets
// the state and reclaims the inode if it was unlinked.
func (v *Volume) release(ctx context.Context, f *file) error {
	v.mu.Lock()
	f.refs--
	last := f.refs == 0
	v.mu.Unlock()
	if !last {
		return nil
	}
	f.mu.Lock()
	err := f.flush(ctx, true)
	if err != nil {
		v.fs.log.Error("write-back failed on last close; buffered data dropped",
			"volume", v.Info().Name, "ino", f.ino, "err", err)
		f.buf.reset(v.fs)
		f.dropBatches()
	} else if f.loaded {
		v.maybeCompact(f)
	}
	f.mu.Unlock()
	v.mu.Lock()
	if f.refs != 0 || v.files[f.ino] != f {
		v.mu.Unlock()
		return err
	}
	f.purging = make(chan struct{})
	v.mu.Unlock()
	if perr := v.purgeLocked(ctx, f); perr != nil && err == nil {
		err = perr
	}
	return err
}

// purgeLocked reclaims f's inode if it is unlinked, then forgets f. f is
// in v.files with purging set, so no one opens the inode meanwhile.
func (v *Volume) purgeLocked(ctx context.Context, f *file) error {
	err := v.purgeIfUnlinked(ctx, f.ino)
	v.mu.Lock()
	delete(v.files, f.ino)
	close(f.purging)
	v.mu.Unlock()
	return err
}

// overlay updates a with the size and times of buffered writes.
func (v *Volume) overlay(a *Attr) {
	if !a.IsRegular() {
		return
	}
	v.mu.Lock()
	f := v.files[a.Ino]
	v.mu.Unlock()
	if f == nil {
		return
	}
	f.mu.Lock()
	if f.loaded {
		a.Size = f.size
		if f.timesDirty {
			a.Mtime, a.Ctime = f.mtime, f.mtime
		}
	}
	f.mu.Unlock()
}

// flushAll writes back every buffered file of the volume.
func (v *Volume) flushAll(ctx context.Context) error {
	v.mu.Lock()
	files := make([]*file, 0, len(v.files))
	for _, f := range v.files {
		files = append(files, f)
	}
	v.mu.Unlock()
	for _, f := range files {
		f.mu.Lock()
		err := f.flush(ctx, true)
		f.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// maybePurge reclaims ino, whose last link is gone, unless it is open.
func (v *Volume) maybePurge(ctx context.Context, ino Ino) error {
	if ino == 0 {
		return nil
	}
	v.mu.Lock()
	f := v.files[ino]
	for f != nil && f.purging != nil { // a release is deciding: decide again after it
		done := f.purging
		v.mu.Unlock()
		<-done
		v.mu.Lock()
		f = v.files[ino]
	}
	if f != nil {
		v.mu.Unlock()
		return nil // the last release purges it
	}
	f = &file{v: v, ino: ino, purging: make(chan struct{})}
	v.files[ino] = f
	v.mu.Unlock()
	return v.purgeLocked(ctx, f)
}

// purgeIfUnlinked deletes the data and records of ino if it has no link.
func (v *Volume) purgeIfUnlinked(ctx context.Context, ino Ino) error {
	var orphan bool
	err := v.view(ctx, func(r reader) error {
		n, err := r.get(ino)
		if err == syscall.ENOENT {
			return nil
		} else if err != nil {
			return err
		}
		orphan = n.Nlink == 0
		return nil
	})
	if err != nil || !orphan {
		return err
	}
	return v.purge(ctx, ino)
}

// purge deletes an orphan's extents in bounded transactions, then the
// inode itself. A crash midway leaves the orphan record, so the work
// resumes at the next open of the volume.
func (v *Volume) purge(ctx context.Context, ino Ino) error {
	prefix := v.ks.extentPrefix(ino)
	for more := true; more; {
		err := v.update(ctx, func(t *txn) error {
			var keys [][]byte
			var freed uint64
			err := t.tx.Scan(prefix, scanEnd(prefix), func(k, val []byte) error {
				e, err := decodeExtent(binary.BigEndian.Uint64(k[len(prefix):]), val)
				if err != nil {
					return err
				}
				keys = append(keys, append([]byte(nil), k...))
				freed += e.Len
				if len(keys) == purgeBatch {
					return meta.ErrStop
				}
				return nil
			})
			if err != nil {
				return err
			}
			more = len(keys) == purgeBatch
			for _, k := range keys {
				if err := t.tx.Delete(k); err != nil {
					return err
				}
			}
			if !more {
				if err := t.deleteInode(ino); err != nil {
					return err
				}
				if err := t.addUsage(0, -1); err != nil {
					return err
				}
			}
			return t.addUsage(-int64(freed), 0)
		})
		if err != nil {
			return fmt.Errorf("reclaim inode %d: %w", ino, err)
		}
	}
	return nil
}

// reclaimOrphans purges inodes unlinked while open before a crash.
func (v *Volume) reclaimOrphans(ctx context.Context) error {
	var inos []Ino
	err := v.view(ctx, func(r reader) error {
		prefix := r.ks.orphans()
		return r.r.Scan(prefix, scanEnd(prefix), func(k, _ []byte) error {
			if len(k) == len(prefix)+8 {
				inos = append(inos, Ino(binary.BigEndian.Uint64(k[len(prefix):])))
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, ino := range inos {
		if err := v.maybePurge(ctx, ino); err != nil {
			return err
		}
	}
	if len(inos) > 0 {
		v.fs.log.Info("reclaimed orphan inodes", "volume", v.Info().Name, "count", len(inos))
	}
	return nil
}
