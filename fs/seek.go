package fs

import (
	"context"
	"fmt"
	"syscall"
)

// Fallocate modes, as fallocate(2).
const (
	FallocKeepSize  = 0x01
	FallocPunchHole = 0x02
)

// Allocate implements fallocate(2). Space is not reserved ahead (chunks
// are written when data is), so mode 0 only extends the size; punching a
// hole drops the range's extents.
func (h *Handle) Allocate(ctx context.Context, off, length uint64, mode uint32) error {
	end := off + length
	if length == 0 || end < off || end > MaxFileSize {
		return syscall.EINVAL
	}
	defer h.v.hold()()
	f := h.f
	f.mu.Lock()
	defer f.mu.Unlock()
	switch mode {
	case 0, FallocKeepSize, FallocKeepSize | FallocPunchHole:
		// Like a write, any fallocate drops set-user-ID (file_modified).
		if !h.caller.isRoot() {
			if err := f.clearPrivileges(ctx, h.caller); err != nil {
				return err
			}
		}
	}
	switch mode {
	case 0:
		if end > f.size {
			return f.truncate(ctx, h.caller, end)
		}
		return nil
	case FallocKeepSize:
		return nil
	case FallocKeepSize | FallocPunchHole:
		if err := f.drain(ctx); err != nil {
			return err
		}
		end = min(end, f.size)
		if off >= end {
			return nil
		}
		f.v.fs.dirty.Add(-f.buf.punch(off, end))
		f.timesDirty, f.mtime = true, f.v.fs.opts.Now()
		return f.commit(ctx, []edit{{lo: off, hi: end}}, f.size, true)
	}
	return fmt.Errorf("fallocate mode %#x: %w", mode, syscall.EOPNOTSUPP)
}

// Seek whence values for data and holes, as lseek(2).
const (
	SeekData = 3
	SeekHole = 4
)

// SeekDataHole finds the next data (SeekData) or hole (SeekHole) at or
// after off. The end of file counts as a hole; past it is ENXIO.
func (h *Handle) SeekDataHole(off uint64, whence int) (uint64, error) {
	f := h.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.drain(context.Background()); err != nil {
		return 0, err
	}
	if off >= f.size {
		return 0, syscall.ENXIO
	}
	switch whence {
	case SeekData:
		best, found := f.buf.nextData(off)
		if i := f.ext.search(off); i < len(f.ext) {
			d := max(off, f.ext[i].Off)
			if !found || d < best {
				best, found = d, true
			}
		}
		if !found || best >= f.size {
			return 0, syscall.ENXIO
		}
		return best, nil
	case SeekHole:
		for off < f.size {
			next := off
			if i := f.ext.search(off); i < len(f.ext) && f.ext[i].Off <= off {
				next = f.ext[i].end()
			}
			if end, ok := f.buf.covers(off); ok {
				next = max(next, end)
			}
			if next == off {
				return off, nil
			}
			off = next
		}
		return f.size, nil
	}
	return 0, syscall.EINVAL
}
