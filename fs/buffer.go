package fs

import (
	"slices"
	"sort"
)

// span is a run of buffered bytes at a file offset.
type span struct {
	off  uint64
	data []byte
}

func (s span) end() uint64 { return s.off + uint64(len(s.data)) }

// writeBuffer holds a file's written but not yet stored bytes as sorted,
// non-overlapping, non-adjacent spans.
type writeBuffer struct {
	spans []span
	bytes int64
}

// write copies p into the buffer at off and returns how many bytes the
// buffer grew by.
func (b *writeBuffer) write(p []byte, off uint64) int64 {
	end := off + uint64(len(p))
	// Fast path: appending to the last span (sequential writers).
	if n := len(b.spans); n > 0 && b.spans[n-1].end() == off {
		d := b.spans[n-1].data
		if len(d)+len(p) > cap(d) {
			// Double: append grows large slices by a quarter, which
			// copied a streaming file's buffer about five times over.
			grown := make([]byte, len(d), max(2*cap(d), len(d)+len(p), 256<<10))
			copy(grown, d)
			d = grown
		}
		b.spans[n-1].data = append(d, p...)
		b.bytes += int64(len(p))
		return int64(len(p))
	}
	// Spans touching [off, end] are merged with p into one.
	i := sort.Search(len(b.spans), func(i int) bool { return b.spans[i].end() >= off })
	j := i
	for j < len(b.spans) && b.spans[j].off <= end {
		j++
	}
	lo, hi := off, end
	if i < j {
		lo = min(lo, b.spans[i].off)
		hi = max(hi, b.spans[j-1].end())
	}
	// Only the last span grows by appends (the fast path above): room to
	// grow there, none for the spans of random writes.
	room := hi - lo
	if j == len(b.spans) {
		room = max(room, 64<<10)
	}
	merged := make([]byte, hi-lo, room)
	var old int64
	for _, s := range b.spans[i:j] {
		copy(merged[s.off-lo:], s.data)
		old += int64(len(s.data))
	}
	copy(merged[off-lo:], p)
	b.spans = slices.Replace(b.spans, i, j, span{off: lo, data: merged})
	grew := int64(hi-lo) - old
	b.bytes += grew
	return grew
}

// overlay copies the buffered bytes inside [off, off+len(p)) into p.
func (b *writeBuffer) overlay(p []byte, off uint64) {
	end := off + uint64(len(p))
	i := sort.Search(len(b.spans), func(i int) bool { return b.spans[i].end() > off })
	for ; i < len(b.spans) && b.spans[i].off < end; i++ {
		s := b.spans[i]
		lo, hi := max(s.off, off), min(s.end(), end)
		copy(p[lo-off:hi-off], s.data[lo-s.off:hi-s.off])
	}
}

// truncate drops buffered bytes at or beyond size and returns how many.
func (b *writeBuffer) truncate(size uint64) int64 {
	var dropped int64
	for i := len(b.spans) - 1; i >= 0; i-- {
		s := &b.spans[i]
		if s.off >= size {
			dropped += int64(len(s.data))
			b.spans = b.spans[:i]
			continue
		}
		if s.end() > size {
			dropped += int64(s.end() - size)
			s.data = s.data[:size-s.off]
		}
		break
	}
	b.bytes -= dropped
	return dropped
}

// punch drops buffered bytes inside [lo, hi) and returns how many.
func (b *writeBuffer) punch(lo, hi uint64) int64 {
	var out []span
	var dropped int64
	for _, s := range b.spans {
		if s.end() <= lo || s.off >= hi {
			out = append(out, s)
			continue
		}
		if s.off < lo {
			out = append(out, span{off: s.off, data: s.data[:lo-s.off]})
		}
		if s.end() > hi {
			out = append(out, span{off: hi, data: s.data[hi-s.off:]})
		}
		dropped += int64(min(s.end(), hi) - max(s.off, lo))
	}
	b.spans = out
	b.bytes -= dropped
	return dropped
}

// nextData returns the first buffered offset at or after off, if any.
func (b *writeBuffer) nextData(off uint64) (uint64, bool) {
	i := sort.Search(len(b.spans), func(i int) bool { return b.spans[i].end() > off })
	if i == len(b.spans) {
		return 0, false
	}
	return max(off, b.spans[i].off), true
}

// covers reports whether off lies inside a buffered span, and where that
// span ends.
func (b *writeBuffer) covers(off uint64) (uint64, bool) {
	i := sort.Search(len(b.spans), func(i int) bool { return b.spans[i].end() > off })
	if i < len(b.spans) && b.spans[i].off <= off {
		return b.spans[i].end(), true
	}
	return 0, false
}

// reset empties the buffer, returning its bytes to the filesystem's budget.
func (b *writeBuffer) reset(f *FS) {
	f.dirty.Add(-b.bytes)
	b.spans, b.bytes = nil, 0
}
