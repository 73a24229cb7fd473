package fusefs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/cairn-storage/cairn/fs"
)

// newRequestFor is newRequest, with the supplementary groups loaded when
// mode asks for set-group-ID: fs keeps that bit only for members of the
// file's group, and would otherwise drop it silently.
func newRequestFor(ctx context.Context, mode uint32) *request {
	r := newRequest(ctx)
	if mode&syscall.S_ISGID != 0 {
		r.loadGroups()
	}
	return r
}

// create runs an fs operation that makes a new inode below n.
func (n *node) create(ctx context.Context, r *request, op, name string, out *fuse.EntryOut,
	fn func(c *fs.Caller) (fs.Attr, error)) (*gofs.Inode, syscall.Errno) {
	if n.shadowed(name) {
		return nil, syscall.EEXIST
	}
	var a fs.Attr
	errno := n.m.do(r, op, func(c *fs.Caller) (err error) {
		a, err = fn(c)
		return err
	})
	if errno != 0 {
		return nil, errno
	}
	return n.child(ctx, &a, out), 0
}

// Mknod creates a regular file, FIFO, socket or device node.
func (n *node) Mknod(ctx context.Context, name string, mode, dev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	r := newRequestFor(ctx, mode)
	return n.create(ctx, r, "mknod", name, out, func(c *fs.Caller) (fs.Attr, error) {
		return n.m.vol.Mknod(r.ctx, c, n.ino(), name, mode, dev)
	})
}

// Mkdir creates a directory.
func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	r := newRequest(ctx)
	return n.create(ctx, r, "mkdir", name, out, func(c *fs.Caller) (fs.Attr, error) {
		return n.m.vol.Mkdir(r.ctx, c, n.ino(), name, mode)
	})
}

// Symlink creates a symbolic link to target.
func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	r := newRequest(ctx)
	return n.create(ctx, r, "symlink", name, out, func(c *fs.Caller) (fs.Attr, error) {
		return n.m.vol.Symlink(r.ctx, c, n.ino(), name, target)
	})
}

// Link adds the name n/name for target.
func (n *node) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	t, ok := target.(*node)
	if !ok || t.m != n.m {
		return nil, syscall.EXDEV
	}
	r := newRequest(ctx)
	ino := t.ino()
	return n.create(ctx, r, "link", name, out, func(c *fs.Caller) (fs.Attr, error) {
		return n.m.vol.Link(r.ctx, c, ino, n.ino(), name)
	})
}

// Create creates and opens a regular file. If another client created
// the name first, a create without O_EXCL opens that file instead.
func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	if n.shadowed(name) {
		return nil, nil, 0, syscall.EEXIST
	}
	r := newRequestFor(ctx, mode)
	var a fs.Attr
	created := true
	errno := n.m.do(r, "create", func(c *fs.Caller) (err error) {
		a, err = n.m.vol.Mknod(r.ctx, c, n.ino(), name, mode|syscall.S_IFREG, 0)
		return err
	})
	if errno == syscall.EEXIST && flags&syscall.O_EXCL == 0 {
		created = false
		errno = n.m.do(r, "create", func(c *fs.Caller) (err error) {
			a, err = n.m.vol.Lookup(r.ctx, c, n.ino(), name)
			return err
		})
	}
	if errno != 0 {
		return nil, nil, 0, errno
	}
	fh, errno := n.m.open(r, a.Ino, flags, created)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	return n.child(ctx, &a, out), fh, 0, 0
}

// Tmpfile creates an open file in no directory (O_TMPFILE), as a hidden
// name that is removed at once; see the package documentation.
func (n *node) Tmpfile(ctx context.Context, flags, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	r := newRequestFor(ctx, mode)
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	name := ".cairn-tmpfile-" + hex.EncodeToString(rnd[:])
	var a fs.Attr
	errno := n.m.do(r, "tmpfile", func(c *fs.Caller) (err error) {
		a, err = n.m.vol.Mknod(r.ctx, c, n.ino(), name, mode|syscall.S_IFREG, 0)
		return err
	})
	if errno != 0 {
		return nil, nil, 0, errno
	}
	fh, errno := n.m.open(r, a.Ino, flags, true)
	if errno == 0 {
		errno = n.m.errno("tmpfile", n.m.vol.Unlink(r.ctx, nil, n.ino(), name))
	}
	if errno == 0 {
		a, errno = n.m.getattr(r.ctx, a.Ino)
	}
	if errno != 0 {
		if fh != nil {
			fh.Release(r.ctx)
		}
		_ = n.m.vol.Unlink(r.ctx, nil, n.ino(), name)
		return nil, nil, 0, errno
	}
	return n.child(ctx, &a, out), fh, 0, 0
}

func (m *mount) getattr(ctx context.Context, ino fs.Ino) (fs.Attr, syscall.Errno) {
	a, err := m.vol.GetAttr(ctx, ino)
	return a, m.errno("getattr", err)
}

// Readlink returns a symlink's target.
func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	target, err := n.m.vol.Readlink(context.WithoutCancel(ctx), n.ino())
	if err != nil {
		return nil, n.m.errno("readlink", err)
	}
	return []byte(target), 0
}

// Unlink removes the name n/name of a non-directory.
func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	if n.shadowed(name) {
		return syscall.EBUSY
	}
	r := newRequest(ctx)
	return n.m.do(r, "unlink", func(c *fs.Caller) error {
		return n.m.vol.Unlink(r.ctx, c, n.ino(), name)
	})
}

// Rmdir removes the empty directory n/name.
func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	if n.shadowed(name) {
		return syscall.EBUSY
	}
	r := newRequest(ctx)
	return n.m.do(r, "rmdir", func(c *fs.Caller) error {
		return n.m.vol.Rmdir(r.ctx, c, n.ino(), name)
	})
}

// Rename moves n/name to newParent/newName; flags are renameat2's
// (RENAME_NOREPLACE, RENAME_EXCHANGE), which fs takes as they are.
func (n *node) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	p, ok := newParent.(*node)
	if !ok || p.m != n.m {
		return syscall.EXDEV
	}
	if n.shadowed(name) || p.shadowed(newName) {
		return syscall.EBUSY
	}
	r := newRequest(ctx)
	to := p.ino()
	return n.m.do(r, "rename", func(c *fs.Caller) error {
		return n.m.vol.Rename(r.ctx, c, n.ino(), name, to, newName, flags)
	})
}

// shadowed reports whether n/name is .snapshots, which hides any entry of
// that name: the name can be neither created nor removed nor renamed.
func (n *node) shadowed(name string) bool { return name == snapDirName && n.isSnapRoot() }
