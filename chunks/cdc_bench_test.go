package chunks

import (
	"math/rand/v2"
	"testing"
)

// randomData returns n deterministic pseudo-random bytes.
func randomData(n int, seed uint64) []byte {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

func BenchmarkNext(b *testing.B) {
	data := randomData(64<<20, 1)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for off := 0; off < len(data); {
			n, _ := DefaultParams.Next(data[off:])
			off += n
		}
	}
}

func BenchmarkSum(b *testing.B) {
	data := randomData(1<<20, 2)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Sum(data)
	}
}

// BenchmarkPipeline measures the write path's CPU work on one goroutine:
// content-defined chunking plus hashing every chunk, over 256 MiB.
func BenchmarkPipeline(b *testing.B) {
	data := randomData(256<<20, 3)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for off := 0; off < len(data); {
			n, _ := DefaultParams.Next(data[off:])
			Sum(data[off : off+n])
			off += n
		}
	}
}
