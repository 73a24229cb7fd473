package chunks

import (
	"fmt"
	"math/bits"
)

// Params configures content-defined chunking (FastCDC family: a gear
// rolling hash with normalized chunking). All sizes are in bytes.
type Params struct {
	Min int // no boundary is cut before Min bytes
	// Avg is the normalization point, rounded down to a power of two:
	// cuts are 4x rarer than 1/Avg before it and 4x likelier after it.
	// On random data the mean chunk is about 1.14*Avg when Min = Avg/4.
	Avg int
	Max int // a chunk is cut at Max bytes if no boundary was found
}

// DefaultParams are cairn's chunking parameters (about 1 MiB per chunk).
// Changing them, or the gear table, moves chunk boundaries and so stops
// new writes from deduplicating against data already stored.
var DefaultParams = Params{Min: 256 << 10, Avg: 1 << 20, Max: 4 << 20}

// gearWindow is how many trailing bytes the 64-bit gear hash depends on:
// each byte is shifted out after 64 steps (and the masks only use bits
// 0..62, so in fact the last 63 bytes decide a cut).
const gearWindow = 64

// Validate reports whether p can be used for chunking.
func (p Params) Validate() error {
	switch {
	case p.Min < gearWindow:
		return fmt.Errorf("chunking params %+v: Min must be at least %d", p, gearWindow)
	case p.Avg < p.Min:
		return fmt.Errorf("chunking params %+v: Avg must be at least Min", p)
	case p.Max < p.Avg:
		return fmt.Errorf("chunking params %+v: Max must be at least Avg", p)
	case p.Max > MaxSize:
		return fmt.Errorf("chunking params %+v: Max must be at most %d", p, MaxSize)
	}
	return nil
}

// Next returns the length of the first chunk of data. found reports
// whether the cut is final: a content-defined boundary, or Max bytes
// reached. When data ends before either, Next returns len(data), false:
// a streaming caller keeps those bytes and waits for more.
//
// Params that fail Validate are clamped into a usable range rather than
// panicking; Next always makes progress on non-empty data.
func (p Params) Next(data []byte) (n int, found bool) {
	p = p.clamp()
	if len(data) >= p.Max {
		data = data[:p.Max]
	} else if len(data) <= p.Min {
		return len(data), false
	}
	maskS, maskL := masks(p.Avg)

	// Start hashing one window before Min, so that the hash at every
	// candidate position depends only on the 64 bytes before it, not on
	// where the previous chunk ended: boundaries resynchronize after an
	// insertion as soon as the hash window is past it.
	h := uint64(0)
	for _, c := range data[p.Min-gearWindow : p.Min] {
		h = h<<1 + gear[c]
	}
	// Normalized chunking: a harder mask (more bits) before Avg and an
	// easier one after it pulls chunk sizes toward Avg.
	normal := min(p.Avg, len(data))
	i, h := scan(data[p.Min:normal], h, maskS)
	if i >= 0 {
		return p.Min + i + 1, true
	}
	if i, _ = scan(data[normal:], h, maskL); i >= 0 {
		return normal + i + 1, true
	}
	return len(data), len(data) == p.Max
}

// scan rolls the gear hash h (h = h<<1 + gear[c]) over buf and returns
// the index of the first byte after which h&mask == 0, or -1 and the
// final hash. It is the hot loop of chunking, written for throughput:
//   - FastCDC 2020's two-bytes-at-once trick: after the first byte of a
//     pair it keeps h<<1 (one SHL+ADD with the pre-shifted gearLS table)
//     and tests it against mask<<1, which is exact because mask never has
//     bit 63 set; the second byte is then a plain add.
//   - Eight bytes per iteration from one bounds-checked subslice.
//
// Every position is tested, so the cuts are exactly those of the simple
// byte-at-a-time loop (see TestScanMatchesReference).
func scan(buf []byte, h, mask uint64) (int, uint64) {
	maskLS := mask << 1
	i := 0
	for ; i+8 <= len(buf); i += 8 {
		b := buf[i : i+8 : i+8]
		h = h<<2 + gearLS[b[0]]
		if h&maskLS == 0 {
			return i, h >> 1
		}
		h += gear[b[1]]
		if h&mask == 0 {
			return i + 1, h
		}
		h = h<<2 + gearLS[b[2]]
		if h&maskLS == 0 {
			return i + 2, h >> 1
		}
		h += gear[b[3]]
		if h&mask == 0 {
			return i + 3, h
		}
		h = h<<2 + gearLS[b[4]]
		if h&maskLS == 0 {
			return i + 4, h >> 1
		}
		h += gear[b[5]]
		if h&mask == 0 {
			return i + 5, h
		}
		h = h<<2 + gearLS[b[6]]
		if h&maskLS == 0 {
			return i + 6, h >> 1
		}
		h += gear[b[7]]
		if h&mask == 0 {
			return i + 7, h
		}
	}
	for ; i < len(buf); i++ {
		h = h<<1 + gear[buf[i]]
		if h&mask == 0 {
			return i, h
		}
	}
	return -1, h
}

// clamp turns any Params into usable ones, so Next never panics or loops
// forever on a zero or nonsensical value. Valid Params are unchanged.
func (p Params) clamp() Params {
	p.Max = min(max(p.Max, gearWindow), MaxSize)
	p.Min = min(max(p.Min, gearWindow), p.Max)
	p.Avg = min(max(p.Avg, p.Min), p.Max)
	return p
}

// masks returns the normalized-chunking masks for an average size: with
// b = log2(avg), maskS has b+2 bits set (a cut is 4x less likely than at
// the average) and maskL has b-2 (4x more likely), as in FastCDC's NC2.
// The bits are the hash's high bits, which depend on the whole window
// (the low bits depend only on the last few bytes); bit 63 is left out
// so that scan can test mask<<1.
func masks(avg int) (maskS, maskL uint64) {
	b := bits.Len(uint(avg)) - 1
	high := func(n int) uint64 {
		n = min(max(n, 1), 62)
		return (1<<n - 1) << (63 - n)
	}
	return high(b + 2), high(b - 2)
}

// gear maps each byte to a pseudo-random 64-bit value. It must never
// change (see DefaultParams); it is generated by splitmix64 from a fixed
// seed, which is as good as a literal table and much shorter.
var gear = func() (t [256]uint64) {
	x := uint64(0xca1e_5eed_0000_0001)
	for i := range t {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		t[i] = z ^ z>>31
	}
	return t
}()

// gearLS is gear shifted left by one, for scan's two-byte step.
var gearLS = func() (t [256]uint64) {
	for i, g := range gear {
		t[i] = g << 1
	}
	return t
}()
