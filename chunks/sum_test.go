package chunks

import (
	"testing"

	"github.com/zeebo/blake3"
)

func TestSum(t *testing.T) {
	// BLAKE3 test vector for the empty input.
	const empty = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
	if got := Sum(nil).String(); got != empty {
		t.Errorf("Sum(nil) = %s, want %s", got, empty)
	}
	// Across BLAKE3's 1 KiB chunk and SIMD batch boundaries, Sum agrees
	// with the streaming hasher.
	for _, n := range []int{1, 1023, 1024, 1025, 8 << 10, 1<<20 + 3} {
		data := randomData(n, uint64(n))
		h := blake3.New()
		h.Write(data)
		if got, want := Sum(data), ID(h.Sum(nil)); got != want {
			t.Errorf("Sum(%d bytes) = %s, want %s", n, got, want)
		}
	}
}

func TestParseID(t *testing.T) {
	id := Sum([]byte("x"))
	if got, err := ParseID(id.String()); err != nil || got != id {
		t.Errorf("ParseID(%s) = %s, %v", id, got, err)
	}
	for _, s := range []string{"", "abc", id.String()[:63] + "g", id.String() + "00"} {
		if _, err := ParseID(s); err == nil {
			t.Errorf("ParseID(%q) succeeded", s)
		}
	}
}
