package fusefs

import (
	"context"
	"errors"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/cairn-storage/cairn/fs"
)

// node is one inode of the volume as go-fuse sees it; its inode number
// is its StableAttr.Ino. The only state it keeps is its open directory
// handles (see dirHandle.stat).
type node struct {
	gofs.Inode
	m *mount

	mu   sync.Mutex
	dirs map[*dirHandle]struct{}
}

var (
	_ gofs.NodeLookuper       = (*node)(nil)
	_ gofs.NodeGetattrer      = (*node)(nil)
	_ gofs.NodeSetattrer      = (*node)(nil)
	_ gofs.NodeStatfser       = (*node)(nil)
	_ gofs.NodeAccesser       = (*node)(nil)
	_ gofs.NodeMknoder        = (*node)(nil)
	_ gofs.NodeMkdirer        = (*node)(nil)
	_ gofs.NodeCreater        = (*node)(nil)
	_ gofs.NodeTmpfiler       = (*node)(nil)
	_ gofs.NodeSymlinker      = (*node)(nil)
	_ gofs.NodeReadlinker     = (*node)(nil)
	_ gofs.NodeLinker         = (*node)(nil)
	_ gofs.NodeUnlinker       = (*node)(nil)
	_ gofs.NodeRmdirer        = (*node)(nil)
	_ gofs.NodeRenamer        = (*node)(nil)
	_ gofs.NodeOpener         = (*node)(nil)
	_ gofs.NodeOpendirHandler = (*node)(nil)
	_ gofs.NodeGetxattrer     = (*node)(nil)
	_ gofs.NodeSetxattrer     = (*node)(nil)
	_ gofs.NodeListxattrer    = (*node)(nil)
	_ gofs.NodeRemovexattrer  = (*node)(nil)
)

func (n *node) ino() fs.Ino { return n.m.fsIno(n.StableAttr().Ino) }

// fillAttr converts fs attributes to FUSE ones.
func (m *mount) fillAttr(out *fuse.Attr, a *fs.Attr) {
	out.Ino = m.fuseIno(a.Ino)
	out.Size = a.Size
	out.Blocks = a.Blocks
	out.Mode = a.Mode
	out.Nlink = a.Nlink
	out.Uid, out.Gid = a.Uid, a.Gid
	out.Rdev = a.Rdev
	out.Blksize = blockSize
	out.SetTimes(&a.Atime, &a.Mtime, &a.Ctime)
}

// blockSize is the st_blksize reported: the preferred I/O size.
const blockSize = 4096

// child returns the go-fuse inode for a, which the caller has just
// found or created below n, with out filled in.
func (n *node) child(ctx context.Context, a *fs.Attr, out *fuse.EntryOut) *gofs.Inode {
	n.m.fillAttr(&out.Attr, a)
	id := gofs.StableAttr{Mode: a.Mode & syscall.S_IFMT, Ino: n.m.fuseIno(a.Ino), Gen: a.Gen}
	return n.NewInode(ctx, &node{m: n.m}, id)
}

// Lookup finds name in directory n.
func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if name == snapDirName && n.isSnapRoot() {
		return n.m.snaps.lookupDir(ctx, n, out)
	}
	r := newRequest(ctx)
	var a fs.Attr
	errno := n.m.do(r, "lookup", func(c *fs.Caller) (err error) {
		a, err = n.m.vol.Lookup(r.ctx, c, n.ino(), name)
		return err
	})
	if errno != 0 {
		return nil, errno
	}
	return n.child(ctx, &a, out), 0
}

// Getattr reports n's attributes, including writes still buffered. f is
// the handle of fstat, or any open handle of n (go-fuse picks one).
func (n *node) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	a, err := n.m.vol.GetAttr(context.WithoutCancel(ctx), n.ino())
	if d, ok := f.(*dirHandle); ok && errors.Is(err, syscall.ENOENT) {
		a, err = d.removed(), nil
	}
	if err != nil {
		return n.m.errno("getattr", err)
	}
	n.seen(a)
	n.m.fillAttr(&out.Attr, &a)
	return 0
}

// Setattr implements chmod, chown, truncate and utimes; a change through
// an open file (ftruncate, futimens) carries its handle.
func (n *node) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	r := newRequest(ctx)
	_, byHandle := f.(*fileHandle)
	sa := setAttrIn(in, byHandle)
	if (sa.Mode != nil && *sa.Mode&syscall.S_ISGID != 0) || sa.Uid != nil || sa.Gid != nil || sa.Size != nil {
		r.loadGroups() // whether set-group-ID survives depends on them
	}
	var a fs.Attr
	errno := n.m.do(r, "setattr", func(c *fs.Caller) (err error) {
		a, err = n.m.vol.SetAttr(r.ctx, c, n.ino(), sa)
		return err
	})
	if errno != 0 {
		return errno
	}
	n.seen(a)
	n.m.fillAttr(&out.Attr, &a)
	out.SetTimeout(n.m.attrTTL)
	return 0
}

// setAttrIn converts a FUSE SETATTR into fs's form.
func setAttrIn(in *fuse.SetAttrIn, byHandle bool) fs.SetAttrIn {
	sa := fs.SetAttrIn{ByHandle: byHandle}
	if m, ok := in.GetMode(); ok {
		sa.Mode = &m
	}
	if uid, ok := in.GetUID(); ok {
		sa.Uid = &uid
	}
	if gid, ok := in.GetGID(); ok {
		sa.Gid = &gid
	}
	if size, ok := in.GetSize(); ok {
		sa.Size = &size
	}
	if t, ok := in.GetATime(); ok {
		if in.Valid&fuse.FATTR_ATIME_NOW != 0 {
			sa.AtimeNow = true
		} else {
			sa.Atime = &t
		}
	}
	if t, ok := in.GetMTime(); ok {
		if in.Valid&fuse.FATTR_MTIME_NOW != 0 {
			sa.MtimeNow = true
		} else {
			sa.Mtime = &t
		}
	}
	return sa
}

// Statfs reports the volume's capacity and usage.
func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	st, err := n.m.vol.StatFS(context.WithoutCancel(ctx))
	if err != nil {
		return n.m.errno("statfs", err)
	}
	out.Blocks = st.Blocks
	out.Bfree = st.BlocksFree
	out.Bavail = st.BlocksFree
	out.Files = st.Files
	out.Ffree = st.FilesFree
	out.Bsize = st.BlockSize
	out.Frsize = st.BlockSize
	out.NameLen = st.NameMaxLen
	return 0
}

// Access implements access(2) (only used without default_permissions).
func (n *node) Access(ctx context.Context, mask uint32) syscall.Errno {
	r := newRequest(ctx)
	return n.m.do(r, "access", func(c *fs.Caller) error {
		return n.m.vol.Access(r.ctx, c, n.ino(), mask)
	})
}
