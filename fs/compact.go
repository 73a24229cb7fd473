package fs

import (
	"context"
	"fmt"
)

// Random writes leave a file as many small extents (packed chunks that
// shadow older ones). Compaction rewrites such a file as content-defined
// chunks again, so reads touch few chunks and the file dedups with copies
// of itself.

// fragmented reports whether a file of this size has many more extents
// than content-defined chunking would give it.
func (f *file) fragmented() bool {
	avg := uint64(f.v.fs.opts.Chunking.Avg)
	return len(f.ext) > 64 && uint64(len(f.ext)) > 4*(f.size/avg+1)
}

// compactWindow is how much of a file one compaction step rewrites.
const compactWindow = 16 << 20

// compact rewrites the file's data as content-defined chunks; holes stay
// holes. f.mu is held and the write buffer is empty.
func (f *file) compact(ctx context.Context) error {
	for _, r := range dataRuns(f.ext) {
		if err := f.compactRun(ctx, r[0], r[1]); err != nil {
			return err
		}
	}
	return nil
}

// dataRuns returns the maximal ranges [lo, hi) covered by extents.
func dataRuns(ext extentList) [][2]uint64 {
	var runs [][2]uint64
	for _, e := range ext {
		if n := len(runs); n > 0 && runs[n-1][1] == e.Off {
			runs[n-1][1] = e.end()
			continue
		}
		runs = append(runs, [2]uint64{e.Off, e.end()})
	}
	return runs
}

// compactRun rewrites [lo, hi), window by window, carrying the bytes
// after each window's last cut into the next.
func (f *file) compactRun(ctx context.Context, lo, hi uint64) error {
	params := f.v.fs.opts.Chunking
	var carry []byte
	for off := lo; off < hi; {
		start := off - uint64(len(carry))
		n := min(uint64(compactWindow), hi-off)
		buf := make([]byte, len(carry)+int(n))
		copy(buf, carry)
		if _, err := f.read(ctx, buf[len(carry):], off); err != nil {
			return err
		}
		off += n
		final := off >= hi
		var pieces []piece
		pos := 0
		for pos < len(buf) {
			cut, found := params.Next(buf[pos:])
			if !found && !final {
				break
			}
			pieces = append(pieces, piece{data: buf[pos : pos+cut], exts: []extent{{Off: start + uint64(pos), Len: uint64(cut)}}})
			pos += cut
		}
		carry = append([]byte(nil), buf[pos:]...)
		if err := f.replaceWith(ctx, pieces); err != nil {
			return err
		}
	}
	return nil
}

// replaceWith stores pieces and makes them the file's extents over their
// range.
func (f *file) replaceWith(ctx context.Context, pieces []piece) error {
	if len(pieces) == 0 {
		return nil
	}
	if err := f.v.storePieces(ctx, pieces); err != nil {
		return fmt.Errorf("compact inode %d: %w", f.ino, err)
	}
	// The extents replaced may have been made durable by an fsync: the
	// new ones must not name chunks a power cut could still take away.
	if err := f.v.fs.store.Sync(ctx); err != nil {
		return fmt.Errorf("compact inode %d: sync chunks: %w", f.ino, ioError(err))
	}
	edits := make([]edit, 0, len(pieces))
	for i := range pieces {
		e := pieces[i].exts[0]
		edits = append(edits, edit{lo: e.Off, hi: e.end(), add: &e})
	}
	timesDirty := f.timesDirty
	f.timesDirty = false // compaction changes no times
	err := f.commit(ctx, edits, f.size, true)
	f.timesDirty = timesDirty
	return err
}

// maybeCompact compacts f in the background if it is fragmented. Called
// with f.mu held, after the last handle's flush.
func (v *Volume) maybeCompact(f *file) {
	if !f.fragmented() {
		return
	}
	v.fs.background(func(ctx context.Context) error {
		release := v.hold()
		defer release()
		g, err := v.acquire(ctx, f.ino)
		if err != nil {
			return nil // removed meanwhile: nothing to compact
		}
		g.mu.Lock()
		if len(g.buf.spans) == 0 && len(g.batches) == 0 && g.fragmented() {
			before := len(g.ext)
			if err = g.compact(ctx); err == nil {
				v.fs.log.Debug("compacted file", "volume", v.Info().Name, "ino", g.ino, "extents_before", before, "extents_after", len(g.ext))
			}
		}
		g.mu.Unlock()
		if rerr := v.release(ctx, g); err == nil {
			err = rerr
		}
		return err
	})
}
