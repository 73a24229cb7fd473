package main

import (
	"encoding/binary"
	"math/rand/v2"
)

// pattern produces incompressible data that never repeats, cheaply:
// block n is a window of a random pool XORed with a key derived from n.
// No two blocks are alike, so neither compression nor deduplication
// (content-defined or not) can shrink what the workloads write: every
// target stores every byte.
type pattern struct {
	pool []uint64
}

// newPattern returns a pattern whose 8 MiB pool is drawn from seed.
func newPattern(seed uint64) *pattern {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	r := rand.NewChaCha8(s)
	p := &pattern{pool: make([]uint64, 1<<20)}
	for i := range p.pool {
		p.pool[i] = r.Uint64()
	}
	return p
}

// splitmix64 is a fast, well-mixing 64-bit hash.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// fill writes block n of the pattern into dst. len(dst) should be a
// multiple of 8; a shorter tail is left as it was.
func (p *pattern) fill(dst []byte, n uint64) {
	key := splitmix64(n)
	j := int(splitmix64(key) % uint64(len(p.pool)))
	for i := 0; i+8 <= len(dst); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], p.pool[j]^key)
		if j++; j == len(p.pool) {
			j = 0
		}
	}
}

// fillAll fills buf with consecutive blocks of size block, numbered from
// first.
func (p *pattern) fillAll(buf []byte, block int, first uint64) {
	for off, n := 0, first; off < len(buf); off, n = off+block, n+1 {
		p.fill(buf[off:min(off+block, len(buf))], n)
	}
}
