package fusefs

import (
	"context"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/cairn-storage/cairn/fs"
)

// Positions of "." and ".." in a listing. fs keeps every entry's cookie
// above them, so a cookie is a valid d_off for seekdir and telldir.
const (
	offDot    = 1
	offDotDot = 2
)

// dirBatch is how many entries a directory handle reads at once.
const dirBatch = 128

// dirHandle is an open directory. Reading it needs no permission check
// beyond the one made at opendir, as in POSIX.
type dirHandle struct {
	n *node

	mu   sync.Mutex
	pos  uint64 // d_off of the last entry returned; 0 at the start
	buf  []entry
	last *entry  // the last entry returned, for FileLookuper
	attr fs.Attr // the directory's attributes when last seen
}

// entry is a directory entry with its attributes.
type entry struct {
	fs.DirEntry
	attr fs.Attr
}

var (
	_ gofs.FileReaddirenter = (*dirHandle)(nil)
	_ gofs.FileSeekdirer    = (*dirHandle)(nil)
	_ gofs.FileLookuper     = (*dirHandle)(nil)
	_ gofs.FileFsyncdirer   = (*dirHandle)(nil)
	_ gofs.FileReleasedirer = (*dirHandle)(nil)
)

// OpendirHandle opens directory n for reading, checking read permission.
func (n *node) OpendirHandle(ctx context.Context, _ uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	r := newRequest(ctx)
	errno := n.m.do(r, "opendir", func(c *fs.Caller) error {
		return n.m.vol.Access(r.ctx, c, n.ino(), fs.MayRead)
	})
	if errno != 0 {
		return nil, 0, errno
	}
	a, errno := n.m.getattr(r.ctx, n.ino())
	if errno != 0 {
		return nil, 0, errno
	}
	d := &dirHandle{n: n, attr: a}
	n.mu.Lock()
	if n.dirs == nil {
		n.dirs = map[*dirHandle]struct{}{}
	}
	n.dirs[d] = struct{}{}
	n.mu.Unlock()
	return d, 0, 0
}

// seen records the latest attributes of directory n in its open handles.
func (n *node) seen(a fs.Attr) {
	if !a.IsDir() {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for d := range n.dirs {
		d.mu.Lock()
		d.attr = a
		d.mu.Unlock()
	}
}

// removed gives the attributes of the open directory after fs deleted
// it (fs deletes an empty directory at once): the last ones seen, with
// no links, so that fstat of an open, removed directory works as on a
// local disk.
func (d *dirHandle) removed() fs.Attr {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.attr
	a.Nlink = 0
	return a
}

// Releasedir forgets the handle.
func (d *dirHandle) Releasedir(context.Context, uint32) {
	d.n.mu.Lock()
	delete(d.n.dirs, d)
	d.n.mu.Unlock()
}

// Readdirent returns the next entry: ".", "..", then the directory's
// entries in cookie order; nil at the end.
func (d *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.last = nil
	switch d.pos {
	case 0:
		d.pos = offDot
		return &fuse.DirEntry{Name: ".", Ino: d.n.StableAttr().Ino, Mode: syscall.S_IFDIR, Off: offDot}, 0
	case offDot:
		d.pos = offDotDot
		return &fuse.DirEntry{Name: "..", Ino: d.parentIno(), Mode: syscall.S_IFDIR, Off: offDotDot}, 0
	}
	if len(d.buf) == 0 {
		if d.pos == offSnapDir {
			return nil, 0
		}
		if errno := d.fill(ctx); errno != 0 {
			return nil, errno
		}
		if len(d.buf) == 0 {
			if d.n.isSnapRoot() && d.n.m.opts.ShowSnapshots {
				d.pos = offSnapDir
				return &fuse.DirEntry{Name: snapDirName, Ino: snapDirIno, Mode: syscall.S_IFDIR, Off: offSnapDir}, 0
			}
			return nil, 0
		}
	}
	e := d.buf[0]
	d.buf = d.buf[1:]
	d.pos, d.last = e.Cookie, &e
	return &fuse.DirEntry{Name: e.Name, Ino: d.n.m.fuseIno(e.Ino), Mode: e.Mode, Off: e.Cookie}, 0
}

// parentIno is the inode number reported for "..": the parent go-fuse
// knows of, or the directory itself at the root.
func (d *dirHandle) parentIno() uint64 {
	if _, p := d.n.Parent(); p != nil {
		return p.StableAttr().Ino
	}
	return d.n.StableAttr().Ino
}

// fill reads the entries after d.pos.
func (d *dirHandle) fill(ctx context.Context) syscall.Errno {
	d.buf = d.buf[:0]
	hide := d.n.isSnapRoot() // .snapshots shadows an entry of that name
	err := d.n.m.vol.ReadDirPlus(context.WithoutCancel(ctx), nil, d.n.ino(), d.pos,
		func(e fs.DirEntry, a *fs.Attr) bool {
			if hide && e.Name == snapDirName {
				return true
			}
			d.buf = append(d.buf, entry{DirEntry: e, attr: *a})
			return len(d.buf) < dirBatch
		}, true)
	return d.n.m.errno("readdir", err)
}

// Seekdir moves to position off (a d_off returned earlier, or 0).
func (d *dirHandle) Seekdir(_ context.Context, off uint64) syscall.Errno {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pos, d.buf, d.last = off, nil, nil
	return 0
}

// Lookup answers READDIRPLUS's lookup of the entry just returned from
// the attributes read with it.
func (d *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	d.mu.Lock()
	last := d.last
	d.mu.Unlock()
	if last == nil || last.Name != name {
		return d.n.Lookup(ctx, name, out)
	}
	return d.n.child(ctx, &last.attr, out), 0
}

// Fsyncdir makes the directory's changes durable.
func (d *dirHandle) Fsyncdir(ctx context.Context, _ uint32) syscall.Errno {
	if d.n.m.opts.Sync == nil {
		return 0
	}
	return d.n.m.errno("fsyncdir", d.n.m.opts.Sync(context.WithoutCancel(ctx)))
}
