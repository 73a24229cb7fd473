package fs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"syscall"
	"time"

	"github.com/cairn-storage/cairn/chunks"
)

// Handle is an open regular file.
type Handle struct {
	v      *Volume
	f      *file
	caller *Caller
	flags  int
}

// Open opens the regular file ino with open(2) flags, checking c's
// permissions; O_TRUNC empties the file.
func (v *Volume) Open(ctx context.Context, c *Caller, ino Ino, flags int) (*Handle, error) {
	return v.open(ctx, c, ino, flags, true)
}

// OpenCreated opens the regular file ino that c has just created, without
// checking c's permissions, as open(2) with O_CREAT does: a file created
// read-only can be written through the descriptor that created it. The
// handle still writes as c (for clearing set-user-ID).
func (v *Volume) OpenCreated(ctx context.Context, c *Caller, ino Ino, flags int) (*Handle, error) {
	return v.open(ctx, c, ino, flags, false)
}

func (v *Volume) open(ctx context.Context, c *Caller, ino Ino, flags int, check bool) (*Handle, error) {
	a, err := v.GetAttr(ctx, ino)
	if err != nil {
		return nil, err
	}
	var mask uint32
	switch flags & syscall.O_ACCMODE {
	case syscall.O_RDONLY:
		mask = MayRead
	case syscall.O_WRONLY:
		mask = MayWrite
	default:
		mask = MayRead | MayWrite
	}
	if flags&syscall.O_TRUNC != 0 {
		mask |= MayWrite
	}
	switch {
	case a.IsDir():
		if mask&MayWrite != 0 {
			return nil, syscall.EISDIR
		}
		return nil, fmt.Errorf("open directory %d as a file: %w", ino, syscall.EISDIR)
	case !a.IsRegular():
		return nil, fmt.Errorf("open inode %d of mode %#o: %w", ino, a.Mode, syscall.EINVAL)
	}
	if check {
		if err := c.may(&a, mask); err != nil {
			return nil, err
		}
	}
	if mask&MayWrite != 0 {
		if err := v.writable(); err != nil {
			return nil, err
		}
	}
	defer v.hold()()
	f, err := v.acquire(ctx, ino)
	if err != nil {
		return nil, err
	}
	h := &Handle{v: v, f: f, caller: c, flags: flags}
	if flags&syscall.O_TRUNC != 0 && a.Size > 0 {
		f.mu.Lock()
		err = f.truncate(ctx, c, 0)
		f.mu.Unlock()
		if err != nil {
			return nil, errors.Join(err, v.release(ctx, f))
		}
	}
	return h, nil
}

// Ino returns the handle's inode number.
func (h *Handle) Ino() Ino { return h.f.ino }

// Read reads up to len(p) bytes at off; it returns 0 at end of file.
func (h *Handle) Read(ctx context.Context, p []byte, off int64) (n int, err error) {
	if off < 0 {
		return 0, syscall.EINVAL
	}
	defer h.v.io.countRead(time.Now(), &n)
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	return h.f.read(ctx, p, uint64(off))
}

// Write writes p at off (at the end of file for O_APPEND handles).
func (h *Handle) Write(ctx context.Context, p []byte, off int64) (int, error) {
	return h.WriteAs(ctx, h.caller, p, off)
}

// WriteAs is Write on behalf of c, for frontends that share one handle
// among clients (the NFS gateway): the rules for clearing set-user-ID and
// set-group-ID apply to c, not to whoever opened the handle.
func (h *Handle) WriteAs(ctx context.Context, c *Caller, p []byte, off int64) (n int, err error) {
	if off < 0 {
		return 0, syscall.EINVAL
	}
	defer h.v.io.countWrite(time.Now(), &n)
	defer h.v.hold()()
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if h.flags&syscall.O_APPEND != 0 {
		off = int64(h.f.size)
	}
	return h.f.write(ctx, c, p, uint64(off))
}

// Flush stores the buffered writes, so that other clients see them
// (close-to-open consistency). It does not make them durable.
func (h *Handle) Flush(ctx context.Context) error {
	defer h.v.hold()()
	return h.flush(ctx)
}

func (h *Handle) flush(ctx context.Context) error {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	return h.f.flush(ctx, true)
}

// Fsync stores the buffered writes and makes them durable.
func (h *Handle) Fsync(ctx context.Context) error {
	h.v.io.fsyncs.Add(1)
	release := h.v.hold()
	err := h.flush(ctx)
	release()
	if err != nil {
		return err
	}
	return h.v.fs.syncStores(ctx)
}

// Release closes the handle. The last release of an unlinked file frees it.
func (h *Handle) Release(ctx context.Context) error {
	defer h.v.hold()()
	return h.v.release(ctx, h.f)
}

// read fills p from the extents and the write buffer; f.mu is held.
func (f *file) read(ctx context.Context, p []byte, off uint64) (int, error) {
	if off >= f.size {
		return 0, nil
	}
	p = p[:min(uint64(len(p)), f.size-off)]
	clear(p)
	end := off + uint64(len(p))
	for _, e := range f.ext.overlapping(off, end) {
		data, err := f.v.fs.store.Get(ctx, e.Chunk)
		if err != nil {
			f.v.fs.log.Error("reading chunk failed", "volume", f.v.Info().Name, "ino", f.ino,
				"chunk", e.Chunk.String(), "offset", e.Off, "err", err)
			return 0, fmt.Errorf("read inode %d at %d: %w: chunk %s: %w", f.ino, e.Off, syscall.EIO, e.Chunk, err)
		}
		lo, hi := max(e.Off, off), min(e.end(), end)
		co := uint64(e.ChunkOff) + (lo - e.Off)
		if co+(hi-lo) > uint64(len(data)) {
			f.v.fs.log.Error("extent points past its chunk", "ino", f.ino, "chunk", e.Chunk.String(), slog.Uint64("offset", e.Off))
			return 0, fmt.Errorf("inode %d: extent past end of chunk %s: %w", f.ino, e.Chunk, syscall.EIO)
		}
		copy(p[lo-off:hi-off], data[co:])
	}
	f.overlayBatches(p, off)
	f.buf.overlay(p, off)
	if off == f.readEnd {
		f.prefetch(end)
	}
	f.readEnd = end
	return len(p), nil
}

// prefetch keeps the chunks of the prefetchWindow bytes after end being
// read into the cache, several at a time, so that a sequential reader
// finds them verified when it gets there.
func (f *file) prefetch(end uint64) {
	if f.prefetchedTo < end || f.prefetchedTo > end+prefetchWindow {
		f.prefetchedTo = end // a new sequential run
	}
	store, log, sem := f.v.fs.store, f.v.fs.log, f.v.fs.prefetching
	var last chunks.ID
	for i := f.ext.search(f.prefetchedTo); i < len(f.ext) && f.ext[i].Off < end+prefetchWindow; i++ {
		e := f.ext[i]
		if e.Off < end || e.Chunk == last { // being read, or fetched just now
			last, f.prefetchedTo = e.Chunk, e.end()
			continue
		}
		select {
		case sem <- struct{}{}:
		default:
			return // enough in flight: the next read goes on from here
		}
		last, f.prefetchedTo = e.Chunk, e.end()
		go func() {
			defer func() { <-sem }()
			if _, err := store.Get(context.Background(), e.Chunk); err != nil {
				log.Debug("prefetch failed", "chunk", e.Chunk.String(), "err", err)
			}
		}()
	}
}

// prefetchWindow is how far ahead of a sequential reader chunks are
// fetched; prefetchers bounds the fetches in flight, per filesystem.
const (
	prefetchWindow = 8 << 20
	prefetchers    = 4
)

// truncate sets the file size; f.mu is held.
func (f *file) truncate(ctx context.Context, c *Caller, size uint64) error {
	if size > MaxFileSize {
		return syscall.EFBIG
	}
	if err := f.drain(ctx); err != nil {
		return err
	}
	f.v.fs.dirty.Add(-f.buf.truncate(size))
	var edits []edit
	if size < f.size {
		edits = []edit{{lo: size, hi: maxOffset}}
	}
	f.timesDirty, f.mtime = true, f.v.fs.opts.Now()
	if err := f.commit(ctx, edits, size, true); err != nil {
		return err
	}
	f.size = size
	if !c.isRoot() {
		return f.clearPrivileges(ctx, c)
	}
	return nil
}

// maxOffset is beyond every file's end.
const maxOffset = MaxFileSize + 1
