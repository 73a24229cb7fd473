package fs

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"sync"
	"syscall"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs/meta"
)

// MaxFileSize is the largest file size accepted.
const MaxFileSize = 1 << 60

// write buffers p at off, flushing completed chunks when the buffer is
// large; f.mu is held.
func (f *file) write(ctx context.Context, c *Caller, p []byte, off uint64) (int, error) {
	end := off + uint64(len(p))
	if end > MaxFileSize || end < off {
		return 0, fmt.Errorf("write past %d bytes: %w", uint64(MaxFileSize), syscall.EFBIG)
	}
	if !c.isRoot() {
		if err := f.clearPrivileges(ctx, c); err != nil {
			return 0, err
		}
	}
	fsys := f.v.fs
	fsys.dirty.Add(f.buf.write(p, off))
	f.size = max(f.size, end)
	f.mtime, f.timesDirty = fsys.opts.Now(), true
	if f.buf.bytes >= fsys.opts.FileDirty || fsys.dirty.Load() > fsys.opts.MaxDirty {
		if err := f.flush(ctx, false); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// clearPrivileges drops set-user-ID (and set-group-ID) before the first
// write by someone other than root, as Linux does.
func (f *file) clearPrivileges(ctx context.Context, c *Caller) error {
	if f.mode&(syscall.S_ISUID|syscall.S_ISGID) == 0 {
		return nil
	}
	return f.v.update(ctx, func(t *txn) error {
		n, err := t.get(f.ino)
		if err != nil {
			return err
		}
		if killPriv(c, &n.Attr) {
			n.Ctime = t.now
		}
		f.mode = n.Mode
		return t.put(n)
	})
}

// flush stores the buffered bytes as chunks and commits their extents.
// Unless final, the bytes after the last content-defined cut of the last
// span stay buffered, so the chunk boundaries of a sequential stream
// depend only on its content (what makes shifted copies dedup), and the
// rest is stored in the background (see batch.go) while writes go on. A
// final flush waits for everything, so its return means the data is in
// the store and the KV.
func (f *file) flush(ctx context.Context, final bool) error {
	if final {
		if err := f.drain(ctx); err != nil {
			return err
		}
	}
	if len(f.buf.spans) == 0 && !f.timesDirty {
		return nil
	}
	pieces, keep := f.plan(final)
	if !final {
		if err := f.waitRoom(ctx); err != nil {
			return err
		}
		f.startBatch(pieces, keep)
		return nil
	}
	if err := f.storeAndCommit(ctx, pieces); err != nil {
		return err
	}
	f.v.fs.dirty.Add(f.setBuffer(keep) - f.buf.bytes)
	return nil
}

// plan cuts the buffer into the chunks to store, and what stays buffered.
func (f *file) plan(final bool) (pieces []piece, keep []span) {
	params := f.v.fs.opts.Chunking
	var pk packer
	for _, s := range f.buf.spans {
		if len(s.data) < params.Min {
			pk.left += len(s.data)
		}
	}
	for i, s := range f.buf.spans {
		if len(s.data) < params.Min {
			pk.add(s, params.Max, &pieces)
			continue
		}
		for pos := 0; pos < len(s.data); {
			n, found := params.Next(s.data[pos:])
			if !found && !final && i == len(f.buf.spans)-1 {
				keep = append(keep, span{off: s.off + uint64(pos), data: append([]byte(nil), s.data[pos:]...)})
				break
			}
			pieces = append(pieces, piece{data: s.data[pos : pos+n], exts: []extent{{Off: s.off + uint64(pos), Len: uint64(n)}}})
			pos += n
		}
	}
	pk.flush(&pieces)
	return pieces, keep
}

// setBuffer makes keep the buffer and returns its size in bytes.
func (f *file) setBuffer(keep []span) int64 {
	var kept int64
	for _, s := range keep {
		kept += int64(len(s.data))
	}
	f.buf.spans = keep
	return kept
}

// storeAndCommit stores pieces and commits their extents.
func (f *file) storeAndCommit(ctx context.Context, pieces []piece) error {
	if err := f.v.storePieces(ctx, pieces); err != nil {
		return fmt.Errorf("write back inode %d: %w", f.ino, err)
	}
	if err := f.commitPieces(ctx, pieces); err != nil {
		return fmt.Errorf("write back inode %d: %w", f.ino, err)
	}
	return nil
}

func sortEdits(edits []edit) {
	sort.Slice(edits, func(a, b int) bool { return edits[a].lo < edits[b].lo })
}

// piece is one chunk to store and the extents that refer to it.
type piece struct {
	data []byte
	exts []extent // Chunk is filled in once stored
}

// packer gathers small spans (random writes) into shared chunks, so a
// flush of many 4 KiB writes stores a few chunks instead of thousands.
type packer struct {
	buf  []byte
	exts []extent
	left int // bytes of the small spans still to add, to size buf once
}

func (p *packer) add(s span, max int, out *[]piece) {
	if len(p.buf)+len(s.data) > max {
		p.flush(out)
	}
	if p.buf == nil {
		p.buf = make([]byte, 0, min(max, p.left))
	}
	p.left -= len(s.data)
	p.exts = append(p.exts, extent{Off: s.off, Len: uint64(len(s.data)), ChunkOff: uint32(len(p.buf))})
	p.buf = append(p.buf, s.data...)
}

func (p *packer) flush(out *[]piece) {
	if len(p.buf) > 0 {
		*out = append(*out, piece{data: p.buf, exts: p.exts})
	}
	p.buf, p.exts = nil, nil
}

// storePieces hashes and stores the pieces, a few at a time in parallel,
// and fills in their extents' chunk IDs.
func (v *Volume) storePieces(ctx context.Context, pieces []piece) error {
	opts := chunks.PutOptions{Compress: v.Info().Compress, Trusted: true}
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	errs := make([]error, len(pieces))
	for i := range pieces {
		sem <- struct{}{}
		wg.Add(1)
		go func(pc *piece, err *error) {
			defer func() { <-sem; wg.Done() }()
			id := chunks.Sum(pc.data)
			if *err = v.fs.store.Put(ctx, id, pc.data, opts); *err != nil {
				return
			}
			for j := range pc.exts {
				pc.exts[j].Chunk = id
			}
		}(&pieces[i], &errs[i])
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return ioError(err)
		}
	}
	return nil
}

// edit replaces the file bytes [lo, hi) with add (nil for a hole).
type edit struct {
	lo, hi uint64
	add    *extent
}

// commit applies edits (sorted, non-overlapping) to the file's extents in
// the KV and in memory, with its buffered times and, if setSize, size.
func (f *file) commit(ctx context.Context, edits []edit, size uint64, setSize bool) error {
	err := f.v.update(ctx, func(t *txn) error {
		n, err := t.get(f.ino)
		if err != nil {
			return err
		}
		delta, maxEnd, err := t.splice(f.ino, edits)
		if err != nil {
			return err
		}
		n.Alloc = uint64(int64(n.Alloc) + delta)
		if setSize {
			n.Size = size
		} else {
			n.Size = max(n.Size, maxEnd)
		}
		if f.timesDirty {
			n.Mtime, n.Ctime = f.mtime, f.mtime
		}
		if err := t.addUsage(delta, 0); err != nil {
			return err
		}
		return t.put(n)
	})
	if err != nil {
		return err
	}
	f.ext = f.ext.apply(edits)
	f.timesDirty = false
	return nil
}

// splice applies edits to the stored extents of ino. It fetches each old
// extent once, edits an in-memory copy and writes back the difference,
// so it never depends on scans seeing the transaction's own writes. It
// returns the change of allocated bytes and the highest edited end.
func (t *txn) splice(ino Ino, edits []edit) (delta int64, maxEnd uint64, err error) {
	prefix := t.ks.extentPrefix(ino)
	var work extentList
	var olds []extent
	var fetched uint64 // every old extent starting before this is in work
	for _, e := range edits {
		if e.hi > fetched {
			start := t.ks.extent(ino, max(e.lo, fetched)+1)
			err := t.tx.Scan(start, scanEnd(prefix), func(k, val []byte) error {
				o, err := decodeExtent(binary.BigEndian.Uint64(k[len(prefix):]), val)
				if err != nil {
					return fmt.Errorf("inode %d: %w", ino, err)
				}
				if o.Off >= e.hi {
					return meta.ErrStop
				}
				if o.Off >= fetched {
					olds = append(olds, o)
					work = append(work, o)
				}
				return nil
			})
			if err != nil {
				return 0, 0, err
			}
			fetched = e.hi
		}
		var adds []extent
		if e.add != nil {
			adds = []extent{*e.add}
			maxEnd = max(maxEnd, e.hi)
		}
		work = work.replace(e.lo, e.hi, adds)
	}
	for _, o := range olds {
		if err := t.tx.Delete(t.ks.extent(ino, o.end())); err != nil {
			return 0, 0, err
		}
	}
	for _, w := range work {
		if err := t.tx.Set(t.ks.extent(ino, w.end()), w.encode()); err != nil {
			return 0, 0, err
		}
	}
	return int64(allocated(work)) - int64(allocated(olds)), maxEnd, nil
}
