package fs

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"syscall"

	"github.com/cairn-storage/cairn/chunks"
)

// extent maps file bytes [Off, Off+Len) to chunk bytes [ChunkOff, ChunkOff+Len).
type extent struct {
	Off      uint64
	Len      uint64
	Chunk    chunks.ID
	ChunkOff uint32
}

func (e extent) end() uint64 { return e.Off + e.Len }

// extentValueSize is the size of an encoded extent value (its end is the key).
const extentValueSize = 8 + chunks.IDSize + 4

func (e extent) encode() []byte {
	b := make([]byte, 0, extentValueSize)
	b = binary.BigEndian.AppendUint64(b, e.Off)
	b = append(b, e.Chunk[:]...)
	return binary.BigEndian.AppendUint32(b, e.ChunkOff)
}

// decodeExtent parses an extent from its key's end offset and its value.
func decodeExtent(end uint64, v []byte) (extent, error) {
	if len(v) != extentValueSize {
		return extent{}, fmt.Errorf("extent value of %d bytes: %w", len(v), syscall.EIO)
	}
	e := extent{Off: binary.BigEndian.Uint64(v)}
	if e.Off >= end {
		return extent{}, fmt.Errorf("extent [%d,%d) is empty: %w", e.Off, end, syscall.EIO)
	}
	e.Len = end - e.Off
	copy(e.Chunk[:], v[8:])
	e.ChunkOff = binary.BigEndian.Uint32(v[8+chunks.IDSize:])
	return e, nil
}

// cut returns the part of e inside [lo, hi), and whether it is not empty.
func (e extent) cut(lo, hi uint64) (extent, bool) {
	lo, hi = max(lo, e.Off), min(hi, e.end())
	if lo >= hi {
		return extent{}, false
	}
	return extent{Off: lo, Len: hi - lo, Chunk: e.Chunk, ChunkOff: e.ChunkOff + uint32(lo-e.Off)}, true
}

// shadow computes how extent n, laid over the overlapping old extents
// olds (sorted), changes the list: the old extents to remove, and the
// trimmed remainders to add back. The same function serves the KV and the
// in-memory copy so the two can never disagree.
func shadow(olds []extent, lo, hi uint64) (removed, kept []extent) {
	for _, o := range olds {
		if o.end() <= lo || o.Off >= hi {
			continue
		}
		removed = append(removed, o)
		if l, ok := o.cut(o.Off, lo); ok {
			kept = append(kept, l)
		}
		if r, ok := o.cut(hi, o.end()); ok {
			kept = append(kept, r)
		}
	}
	return removed, kept
}

// extentList is a file's extents sorted by offset, non-overlapping.
type extentList []extent

// search returns the index of the first extent that ends after off.
func (l extentList) search(off uint64) int {
	return sort.Search(len(l), func(i int) bool { return l[i].end() > off })
}

// overlapping returns the extents intersecting [lo, hi).
func (l extentList) overlapping(lo, hi uint64) []extent {
	i := l.search(lo)
	j := i
	for j < len(l) && l[j].Off < hi {
		j++
	}
	return l[i:j]
}

// replace removes [lo, hi) from the list and inserts adds (within [lo,
// hi)), reusing the list's array: the caller keeps only the result.
func (l extentList) replace(lo, hi uint64, adds []extent) extentList {
	i := l.search(lo)
	j := i
	for j < len(l) && l[j].Off < hi {
		j++
	}
	_, kept := shadow(l[i:j], lo, hi)
	mid := make([]extent, 0, len(kept)+len(adds))
	mid = append(mid, kept...)
	mid = append(mid, adds...)
	sort.Slice(mid, func(a, b int) bool { return mid[a].Off < mid[b].Off })
	// In place: a splice replaces in ascending order, so only the short
	// tail past hi moves, not the whole list once per edit.
	return slices.Replace(l, i, j, mid...)
}

// allocated sums the lengths of the extents.
func allocated(es []extent) uint64 {
	var n uint64
	for _, e := range es {
		n += e.Len
	}
	return n
}

// apply returns the list with edits (sorted, non-overlapping) applied, in
// one pass: a flush of thousands of random writes must not copy the whole
// list once per write.
func (l extentList) apply(edits []edit) extentList {
	out := make(extentList, 0, len(l)+2*len(edits))
	i := 0
	var carry *extent // the part of an old extent beyond the last edit
	next := func() (extent, bool) {
		if carry != nil {
			e := *carry
			carry = nil
			return e, true
		}
		if i < len(l) {
			i++
			return l[i-1], true
		}
		return extent{}, false
	}
	for _, ed := range edits {
		for {
			o, ok := next()
			if !ok {
				break
			}
			if o.end() <= ed.lo {
				out = append(out, o)
				continue
			}
			if o.Off >= ed.hi {
				carry = &o
				break
			}
			if left, ok := o.cut(o.Off, ed.lo); ok {
				out = append(out, left)
			}
			if right, ok := o.cut(ed.hi, o.end()); ok {
				carry = &right
				break
			}
		}
		if ed.add != nil {
			out = append(out, *ed.add)
		}
	}
	if carry != nil {
		out = append(out, *carry)
	}
	return append(out, l[i:]...)
}
