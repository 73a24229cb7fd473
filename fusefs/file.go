package fusefs

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/cairn-storage/cairn/fs"
)

// fileHandle is an open regular file.
type fileHandle struct {
	m *mount
	h *fs.Handle
}

var (
	_ gofs.FileReader    = (*fileHandle)(nil)
	_ gofs.FileWriter    = (*fileHandle)(nil)
	_ gofs.FileFlusher   = (*fileHandle)(nil)
	_ gofs.FileFsyncer   = (*fileHandle)(nil)
	_ gofs.FileReleaser  = (*fileHandle)(nil)
	_ gofs.FileAllocater = (*fileHandle)(nil)
	_ gofs.FileLseeker   = (*fileHandle)(nil)
)

// Open opens the regular file n.
func (n *node) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	fh, errno := n.m.open(newRequest(ctx), n.ino(), flags, false)
	if errno != 0 {
		return nil, 0, errno
	}
	return fh, 0, 0
}

// open opens ino for r. A file the caller has just created is opened
// whatever its mode says, as open(2) with O_CREAT does.
func (m *mount) open(r *request, ino fs.Ino, flags uint32, created bool) (*fileHandle, syscall.Errno) {
	if m.opts.Writeback {
		flags &^= syscall.O_APPEND // the kernel places appends itself
	}
	if !created && (flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0) {
		r.loadGroups() // writes may drop set-group-ID, depending on them
	}
	open := m.vol.Open
	if created {
		open = m.vol.OpenCreated
	}
	var h *fs.Handle
	errno := m.do(r, "open", func(c *fs.Caller) (err error) {
		h, err = open(r.ctx, c, ino, int(flags))
		return err
	})
	if errno != 0 {
		return nil, errno
	}
	fh := &fileHandle{m: m, h: h}
	m.mu.Lock()
	m.handles[fh] = struct{}{}
	m.mu.Unlock()
	return fh, 0
}

// Read reads up to len(dest) bytes at off.
func (f *fileHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := f.h.Read(context.WithoutCancel(ctx), dest, off)
	if err != nil {
		return nil, f.m.errno("read", err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

// Write writes data at off.
func (f *fileHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	n, err := f.h.Write(context.WithoutCancel(ctx), data, off)
	if err != nil {
		return 0, f.m.errno("write", err)
	}
	return uint32(n), 0
}

// Flush stores buffered writes at every close(2), so that other clients
// see them.
func (f *fileHandle) Flush(ctx context.Context) syscall.Errno {
	return f.m.errno("flush", f.h.Flush(context.WithoutCancel(ctx)))
}

// Fsync makes the file's writes, and all metadata, durable.
func (f *fileHandle) Fsync(ctx context.Context, _ uint32) syscall.Errno {
	return f.m.errno("fsync", f.h.Fsync(context.WithoutCancel(ctx)))
}

// Release closes the handle, unless the unmount already did.
func (f *fileHandle) Release(ctx context.Context) syscall.Errno {
	f.m.mu.Lock()
	_, open := f.m.handles[f]
	delete(f.m.handles, f)
	f.m.mu.Unlock()
	if !open {
		return 0
	}
	return f.m.errno("release", f.h.Release(context.WithoutCancel(ctx)))
}

// Allocate implements fallocate(2).
func (f *fileHandle) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	return f.m.errno("fallocate", f.h.Allocate(context.WithoutCancel(ctx), off, size, mode))
}

// Lseek finds data or holes (SEEK_DATA, SEEK_HOLE); the kernel handles
// the other kinds of seek itself.
func (f *fileHandle) Lseek(_ context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	switch whence {
	case fs.SeekData, fs.SeekHole:
		pos, err := f.h.SeekDataHole(off, int(whence))
		return pos, f.m.errno("lseek", err)
	}
	return 0, syscall.EINVAL
}
