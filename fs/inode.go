package fs

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"time"

	"github.com/cairn-storage/cairn/chunks"
)

// Attr are the attributes of an inode, as frontends report them.
type Attr struct {
	Ino   Ino
	Gen   uint64
	Mode  uint32 // file type bits (syscall.S_IFMT) and permission bits
	Nlink uint32
	Uid   uint32
	Gid   uint32
	Rdev  uint32
	Size  uint64
	// Blocks counts 512-byte blocks holding data (holes excluded).
	Blocks uint64
	Atime  time.Time
	Mtime  time.Time
	Ctime  time.Time
	Btime  time.Time
}

// IsDir reports whether the inode is a directory.
func (a *Attr) IsDir() bool { return a.Mode&syscall.S_IFMT == syscall.S_IFDIR }

// IsRegular reports whether the inode is a regular file.
func (a *Attr) IsRegular() bool { return a.Mode&syscall.S_IFMT == syscall.S_IFREG }

// IsSymlink reports whether the inode is a symbolic link.
func (a *Attr) IsSymlink() bool { return a.Mode&syscall.S_IFMT == syscall.S_IFLNK }

// inode is the stored record of one inode.
type inode struct {
	Attr
	// Alloc is the number of bytes covered by extents.
	Alloc uint64
	// Parent is the directory the inode was last linked into; for
	// directories it is always the parent ("..").
	Parent Ino
	// Target is a symlink's target.
	Target string
	// Lazy, when not zero, is the tree node that still holds this inode's
	// content (entries, or extents, and xattrs): a clone or restore copies
	// it into the KV on first use.
	Lazy chunks.ID
	// Cached, when not zero, is the tree node equal to this inode's content
	// and subtree as of DirtyEpoch: a snapshot reuses it without reading
	// the subtree. Every change clears it.
	Cached chunks.ID
	// DirtyEpoch is the volume's snapshot epoch when the inode or, for a
	// directory, anything below it last changed.
	DirtyEpoch uint64
	// LinksBelow marks directories holding, at some depth, a file with
	// several names: a change through one name would not clear the caches
	// along the others, so such directories are always re-read.
	LinksBelow bool
}

// Inode record flags.
const (
	flagLazy       = 1 << 0
	flagCached     = 1 << 1
	flagLinksBelow = 1 << 2
)

const inodeVersion = 1

// inodeFixedSize is the size of the fixed part of an encoded inode.
const inodeFixedSize = 1 + 8*2 + 4*5 + 8*3 + 12*4 + 8 + 8

func appendTime(b []byte, t time.Time) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(t.Unix()))
	return binary.LittleEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

func readTime(b []byte) time.Time {
	sec := int64(binary.LittleEndian.Uint64(b))
	nsec := int64(binary.LittleEndian.Uint32(b[8:]))
	return time.Unix(sec, nsec)
}

// encode serializes the inode record.
func (n *inode) encode() []byte {
	b := make([]byte, 0, inodeFixedSize+len(n.Target)+chunks.IDSize+4)
	b = append(b, inodeVersion)
	le := binary.LittleEndian
	b = le.AppendUint64(b, uint64(n.Ino))
	b = le.AppendUint64(b, n.Gen)
	for _, v := range []uint32{n.Mode, n.Nlink, n.Uid, n.Gid, n.Rdev} {
		b = le.AppendUint32(b, v)
	}
	b = le.AppendUint64(b, n.Size)
	b = le.AppendUint64(b, n.Alloc)
	b = le.AppendUint64(b, uint64(n.Parent))
	for _, t := range []time.Time{n.Atime, n.Mtime, n.Ctime, n.Btime} {
		b = appendTime(b, t)
	}
	var flags uint64
	if !n.Lazy.IsZero() {
		flags |= flagLazy
	}
	if !n.Cached.IsZero() {
		flags |= flagCached
	}
	if n.LinksBelow {
		flags |= flagLinksBelow
	}
	b = le.AppendUint64(b, flags)
	b = le.AppendUint64(b, n.DirtyEpoch)
	b = binary.AppendUvarint(b, uint64(len(n.Target)))
	b = append(b, n.Target...)
	if flags&flagLazy != 0 {
		b = append(b, n.Lazy[:]...)
	}
	if flags&flagCached != 0 {
		b = append(b, n.Cached[:]...)
	}
	return b
}

// decodeInode parses an inode record; it never panics on bad input.
func decodeInode(b []byte) (*inode, error) {
	if len(b) < inodeFixedSize || b[0] != inodeVersion {
		return nil, fmt.Errorf("inode record of %d bytes: bad header: %w", len(b), syscall.EIO)
	}
	le := binary.LittleEndian
	n := &inode{}
	p := b[1:]
	n.Ino = Ino(le.Uint64(p))
	n.Gen = le.Uint64(p[8:])
	p = p[16:]
	for _, v := range []*uint32{&n.Mode, &n.Nlink, &n.Uid, &n.Gid, &n.Rdev} {
		*v = le.Uint32(p)
		p = p[4:]
	}
	n.Size = le.Uint64(p)
	n.Alloc = le.Uint64(p[8:])
	n.Parent = Ino(le.Uint64(p[16:]))
	p = p[24:]
	for _, t := range []*time.Time{&n.Atime, &n.Mtime, &n.Ctime, &n.Btime} {
		*t = readTime(p)
		p = p[12:]
	}
	flags := le.Uint64(p)
	n.DirtyEpoch = le.Uint64(p[8:])
	n.LinksBelow = flags&flagLinksBelow != 0
	p = p[16:]
	tl, k := binary.Uvarint(p)
	if k <= 0 || tl > uint64(len(p)-k) {
		return nil, fmt.Errorf("inode %d: bad symlink target length: %w", n.Ino, syscall.EIO)
	}
	p = p[k:]
	n.Target = string(p[:tl])
	p = p[tl:]
	for _, f := range []struct {
		bit uint64
		id  *chunks.ID
	}{{flagLazy, &n.Lazy}, {flagCached, &n.Cached}} {
		if flags&f.bit == 0 {
			continue
		}
		if len(p) < chunks.IDSize {
			return nil, fmt.Errorf("inode %d: truncated tree id: %w", n.Ino, syscall.EIO)
		}
		copy(f.id[:], p)
		p = p[chunks.IDSize:]
	}
	return n, nil
}

// attr returns the inode's attributes as frontends see them.
func (n *inode) attr() Attr {
	a := n.Attr
	a.Blocks = (n.Alloc + 511) / 512
	return a
}
