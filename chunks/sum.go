package chunks

import "github.com/zeebo/blake3"

// MaxSize is the largest chunk, in plaintext bytes, that stores accept.
// It bounds the memory a single Get may allocate, so a corrupt or hostile
// length field can never make a reader allocate more than this.
const MaxSize = 64 << 20

// Sum returns the ID of data: its BLAKE3-256 hash. zeebo/blake3 uses the
// SIMD (AVX2/AVX-512/SSE4.1) compression functions when the CPU has them.
func Sum(data []byte) ID {
	return ID(blake3.Sum256(data))
}
