package fusefs

import (
	"context"
	"errors"
	"math"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/cairn-storage/cairn/fs"
)

// Snapshots gives the mount what its .snapshots directory shows: the
// volume's snapshots, each browsed as a read-only view volume.
type Snapshots interface {
	// List returns the volume's snapshots.
	List(ctx context.Context) ([]SnapshotRef, error)
	// Open opens the read-only view of snapshot name (fs.OpenTreeVolume);
	// a missing snapshot is an error wrapping syscall.ENOENT. The mount
	// closes the volume at unmount.
	Open(ctx context.Context, name string) (*fs.Volume, error)
}

// SnapshotRef is one entry of .snapshots.
type SnapshotRef struct {
	Name    string
	Created time.Time
}

// snapDirName is the virtual directory in the volume's root.
const snapDirName = ".snapshots"

// Inode numbers. Those of view number i (from 1) are the view volume's,
// with i in bits 48 to 62; .snapshots itself has bit 63.
const (
	viewShift  = 48
	maxViews   = 1<<(63-viewShift) - 1
	snapDirIno = 1<<63 | 1
)

// offSnapDir is the d_off of the .snapshots entry listed last in the
// root with ShowSnapshots; fs's cookies stay far below it.
const offSnapDir = math.MaxInt64

// fuseIno is the inode number the kernel sees for ino of m's volume.
func (m *mount) fuseIno(ino fs.Ino) uint64 { return uint64(ino) | m.hi }

// fsIno is the inode number in m's volume of kernel inode number ino.
func (m *mount) fsIno(ino uint64) fs.Ino {
	if m.hi == 0 {
		return fs.Ino(ino)
	}
	return fs.Ino(ino & (1<<viewShift - 1))
}

// isSnapRoot reports whether n is the root of a volume that has a
// .snapshots directory.
func (n *node) isSnapRoot() bool { return n.m.snaps != nil && n.ino() == fs.RootIno }

// snapState is the .snapshots directory of a mount and its open views.
type snapState struct {
	root *mount
	src  Snapshots

	mu    sync.Mutex
	views map[string]*mount // by snapshot name, open until unmount
	next  uint64            // number of views opened
}

// snapDir is the .snapshots directory.
type snapDir struct {
	gofs.Inode
	s *snapState
}

var (
	_ gofs.NodeLookuper   = (*snapDir)(nil)
	_ gofs.NodeGetattrer  = (*snapDir)(nil)
	_ gofs.NodeReaddirer  = (*snapDir)(nil)
	_ gofs.NodeStatfser   = (*snapDir)(nil)
	_ gofs.NodeOpendirer  = (*snapDir)(nil)
	_ gofs.NodeGetxattrer = (*snapDir)(nil)
)

// lookupDir returns the .snapshots directory below root.
func (s *snapState) lookupDir(ctx context.Context, root *node, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if errno := s.attr(ctx, &out.Attr); errno != 0 {
		return nil, errno
	}
	id := gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: snapDirIno, Gen: 1}
	return root.NewInode(ctx, &snapDir{s: s}, id), 0
}

// attr gives .snapshots the owner and times of the volume's root, read-only.
func (s *snapState) attr(ctx context.Context, out *fuse.Attr) syscall.Errno {
	a, errno := s.root.getattr(context.WithoutCancel(ctx), fs.RootIno)
	if errno != 0 {
		return errno
	}
	s.root.fillAttr(out, &a)
	out.Ino = snapDirIno
	out.Mode = syscall.S_IFDIR | 0o555
	out.Nlink = 2
	out.Size, out.Blocks = 0, 0
	return 0
}

// Getattr reports the directory's attributes.
func (d *snapDir) Getattr(ctx context.Context, _ gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	return d.s.attr(ctx, &out.Attr)
}

// Statfs reports the volume's.
func (d *snapDir) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return (&node{m: d.s.root}).Statfs(ctx, out)
}

// Opendir lets anyone list the directory.
func (d *snapDir) Opendir(context.Context) syscall.Errno { return 0 }

// Getxattr: the directory has no extended attributes.
func (d *snapDir) Getxattr(context.Context, string, []byte) (uint32, syscall.Errno) {
	return 0, syscall.ENODATA
}

// Readdir lists the snapshots.
func (d *snapDir) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	refs, err := d.s.src.List(context.WithoutCancel(ctx))
	if err != nil {
		return nil, d.s.root.errno("readdir .snapshots", err)
	}
	entries := make([]fuse.DirEntry, 0, len(refs))
	for _, r := range refs {
		e := fuse.DirEntry{Name: r.Name, Mode: syscall.S_IFDIR, Ino: snapDirIno + 1}
		d.s.mu.Lock()
		if v := d.s.views[r.Name]; v != nil {
			e.Ino = v.fuseIno(fs.RootIno)
		}
		d.s.mu.Unlock()
		entries = append(entries, e)
	}
	return gofs.NewListDirStream(entries), 0
}

// Lookup opens the view of snapshot name and returns its root.
func (d *snapDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	ctx = context.WithoutCancel(ctx)
	v, errno := d.s.view(ctx, name)
	if errno != 0 {
		return nil, errno
	}
	a, errno := v.getattr(ctx, fs.RootIno)
	if errno != 0 {
		return nil, errno
	}
	v.fillAttr(&out.Attr, &a)
	id := gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: v.fuseIno(fs.RootIno), Gen: a.Gen}
	return d.NewInode(ctx, &node{m: v}, id), 0
}

// view returns the open view of snapshot name, opening it on first use.
func (s *snapState) view(ctx context.Context, name string) (*mount, syscall.Errno) {
	if name == "" || name == "." || name == ".." {
		return nil, syscall.ENOENT
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.views[name]; v != nil {
		return v, 0
	}
	if s.next >= maxViews {
		return nil, syscall.ENFILE
	}
	vol, err := s.src.Open(ctx, name)
	if errors.Is(err, syscall.ENOENT) {
		return nil, syscall.ENOENT
	} else if err != nil {
		return nil, s.root.errno("open snapshot", err)
	}
	s.next++
	opts := s.root.opts
	opts.ReadOnly = true
	v := &mount{vol: vol, log: s.root.log, opts: opts, attrTTL: s.root.attrTTL,
		hi: s.next << viewShift, handles: map[*fileHandle]struct{}{}}
	if s.views == nil {
		s.views = map[string]*mount{}
	}
	s.views[name] = v
	return v, 0
}

// closeAll releases the views' open files and closes their volumes.
func (s *snapState) closeAll() {
	s.mu.Lock()
	views := s.views
	s.views = nil
	s.mu.Unlock()
	for name, v := range views {
		v.releaseHandles()
		if err := v.vol.Close(context.Background()); err != nil {
			s.root.log.Error("closing a snapshot view", "snapshot", name, "err", err)
		}
	}
}
