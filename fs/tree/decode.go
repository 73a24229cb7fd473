package tree

import (
	"encoding/binary"
	"fmt"

	"github.com/cairn-storage/cairn/chunks"
)

// decoder reads an encoded node, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%s: %w", what, ErrMalformed)
	}
	d.b = nil
}

func (d *decoder) uvarint(what string) uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(what string, limit int) []byte {
	n := d.uvarint(what)
	if d.err != nil || n > uint64(limit) || n > uint64(len(d.b)) {
		d.fail(what)
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) fixed(what string, n int) []byte {
	if d.err != nil || len(d.b) < n {
		d.fail(what)
		return make([]byte, n)
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) count(what string, minSize int) int {
	n := d.uvarint(what)
	if d.err != nil || n > maxCount || n*uint64(minSize) > uint64(len(d.b)) {
		d.fail(what)
		return 0
	}
	return int(n)
}

// DecodeAttr reads the fixed-size encoding written by AppendAttr.
func DecodeAttr(p []byte) (Attr, error) {
	if len(p) != attrSize {
		return Attr{}, fmt.Errorf("attributes of %d bytes: %w", len(p), ErrMalformed)
	}
	le := binary.LittleEndian
	a := Attr{Ino: le.Uint64(p)}
	p = p[8:]
	for _, v := range []*uint32{&a.Mode, &a.Nlink, &a.Uid, &a.Gid, &a.Rdev} {
		*v = le.Uint32(p)
		p = p[4:]
	}
	a.Size = le.Uint64(p)
	a.Alloc = le.Uint64(p[8:])
	p = p[16:]
	for _, t := range []*Time{&a.Atime, &a.Mtime, &a.Ctime, &a.Btime} {
		t.Sec, t.Nsec = int64(le.Uint64(p)), le.Uint32(p[8:])
		if t.Nsec >= 1e9 {
			return Attr{}, fmt.Errorf("nanoseconds %d: %w", t.Nsec, ErrMalformed)
		}
		p = p[12:]
	}
	return a, nil
}

// Decode parses an encoded node. It never panics, and it checks what
// Encode guarantees (sorted, unique names; ordered extents), so a decoded
// node re-encodes to the same bytes.
func Decode(b []byte) (*Node, error) {
	if len(b) < len(magic)+1 || [4]byte(b[:4]) != magic {
		return nil, fmt.Errorf("bad header: %w", ErrMalformed)
	}
	d := &decoder{b: b[len(magic)+1:]}
	n := &Node{Kind: Kind(b[len(magic)])}
	for i, c := 0, d.count("xattr count", 2); i < c; i++ {
		name := d.bytes("xattr name", maxName)
		n.Xattrs = append(n.Xattrs, Xattr{Name: string(name), Value: d.bytes("xattr value", maxXattr)})
	}
	switch n.Kind {
	case KindFile:
		for i, c := 0, d.count("extent count", 3+chunks.IDSize); i < c; i++ {
			e := Extent{Off: d.uvarint("extent offset"), Len: d.uvarint("extent length")}
			copy(e.Chunk[:], d.fixed("extent chunk", chunks.IDSize))
			co := d.uvarint("extent chunk offset")
			if co > 1<<32-1 {
				d.fail("extent chunk offset")
			}
			e.ChunkOff = uint32(co)
			n.Extents = append(n.Extents, e)
		}
	case KindDir:
		for i, c := 0, d.count("entry count", 2+attrSize+chunks.IDSize); i < c; i++ {
			e := Entry{Name: string(d.bytes("entry name", maxName))}
			a, err := DecodeAttr(d.fixed("entry attributes", attrSize))
			if err != nil && d.err == nil {
				d.err = err
			}
			e.Attr = a
			e.Target = string(d.bytes("symlink target", maxTarget))
			copy(e.Node[:], d.fixed("entry node", chunks.IDSize))
			n.Entries = append(n.Entries, e)
		}
	default:
		return nil, fmt.Errorf("node kind %d: %w", n.Kind, ErrMalformed)
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%d trailing bytes: %w", len(d.b), ErrMalformed)
	}
	if err := n.checkOrder(); err != nil {
		return nil, err
	}
	return n, nil
}

// checkOrder verifies the canonical order Encode produces.
func (n *Node) checkOrder() error {
	for i := 1; i < len(n.Xattrs); i++ {
		if n.Xattrs[i-1].Name >= n.Xattrs[i].Name {
			return fmt.Errorf("xattrs out of order: %w", ErrMalformed)
		}
	}
	for i := 1; i < len(n.Entries); i++ {
		if n.Entries[i-1].Name >= n.Entries[i].Name {
			return fmt.Errorf("entries out of order: %w", ErrMalformed)
		}
	}
	return n.validate()
}
