package tree

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/cairn-storage/cairn/chunks"
)

// magic starts every encoded node; the last byte is the format version.
var magic = [4]byte{'C', 'T', 'N', 1}

// Limits that keep a decoder from allocating without bound on bad input.
const (
	maxName   = 255
	maxTarget = 4096
	maxXattr  = 64 << 10
	maxCount  = 1 << 24
)

// ErrMalformed is returned (wrapped) for bytes that are not a valid node.
var ErrMalformed = errors.New("malformed tree node")

// Encode serializes n deterministically, sorting its lists first. It
// fails on duplicate names or overlapping extents.
func Encode(n *Node) ([]byte, error) {
	sort.Slice(n.Xattrs, func(i, j int) bool { return n.Xattrs[i].Name < n.Xattrs[j].Name })
	sort.Slice(n.Entries, func(i, j int) bool { return n.Entries[i].Name < n.Entries[j].Name })
	sort.Slice(n.Extents, func(i, j int) bool { return n.Extents[i].Off < n.Extents[j].Off })
	if err := n.validate(); err != nil {
		return nil, err
	}
	b := append([]byte(nil), magic[:]...)
	b = append(b, byte(n.Kind))
	b = binary.AppendUvarint(b, uint64(len(n.Xattrs)))
	for _, x := range n.Xattrs {
		b = appendBytes(b, []byte(x.Name))
		b = appendBytes(b, x.Value)
	}
	switch n.Kind {
	case KindFile:
		b = binary.AppendUvarint(b, uint64(len(n.Extents)))
		for _, e := range n.Extents {
			b = binary.AppendUvarint(b, e.Off)
			b = binary.AppendUvarint(b, e.Len)
			b = append(b, e.Chunk[:]...)
			b = binary.AppendUvarint(b, uint64(e.ChunkOff))
		}
	case KindDir:
		b = binary.AppendUvarint(b, uint64(len(n.Entries)))
		for _, e := range n.Entries {
			b = appendBytes(b, []byte(e.Name))
			b = AppendAttr(b, e.Attr)
			b = appendBytes(b, []byte(e.Target))
			b = append(b, e.Node[:]...)
		}
	}
	return b, nil
}

func (n *Node) validate() error {
	if n.Kind != KindFile && n.Kind != KindDir {
		return fmt.Errorf("node kind %d: %w", n.Kind, ErrMalformed)
	}
	for i, x := range n.Xattrs {
		if x.Name == "" || len(x.Name) > maxName || len(x.Value) > maxXattr || (i > 0 && n.Xattrs[i-1].Name == x.Name) {
			return fmt.Errorf("xattr %q: %w", x.Name, ErrMalformed)
		}
	}
	for i, e := range n.Extents {
		if e.Len == 0 || e.Off+e.Len < e.Off || (i > 0 && n.Extents[i-1].Off+n.Extents[i-1].Len > e.Off) {
			return fmt.Errorf("extent at %d: %w", e.Off, ErrMalformed)
		}
	}
	for i, e := range n.Entries {
		if e.Name == "" || len(e.Name) > maxName || len(e.Target) > maxTarget || (i > 0 && n.Entries[i-1].Name == e.Name) {
			return fmt.Errorf("entry %q: %w", e.Name, ErrMalformed)
		}
	}
	return nil
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// attrSize is the encoded size of an Attr.
const attrSize = 8 + 4*5 + 8*2 + 4*12

// AppendAttr appends the fixed-size encoding of a.
func AppendAttr(b []byte, a Attr) []byte {
	le := binary.LittleEndian
	b = le.AppendUint64(b, a.Ino)
	for _, v := range []uint32{a.Mode, a.Nlink, a.Uid, a.Gid, a.Rdev} {
		b = le.AppendUint32(b, v)
	}
	b = le.AppendUint64(b, a.Size)
	b = le.AppendUint64(b, a.Alloc)
	for _, t := range []Time{a.Atime, a.Mtime, a.Ctime, a.Btime} {
		b = le.AppendUint64(b, uint64(t.Sec))
		b = le.AppendUint32(b, t.Nsec)
	}
	return b
}

// ID is the chunk ID of an encoded node.
func ID(encoded []byte) chunks.ID { return chunks.Sum(encoded) }
