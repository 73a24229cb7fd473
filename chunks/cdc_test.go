package chunks

import (
	"bytes"
	"fmt"
	"testing"
)

func TestParamsValidate(t *testing.T) {
	p := Params{Min: 64, Avg: 64, Max: 64}
	if n, found := p.Next(randomData(100, 1)); n != 64 || !found {
		t.Errorf("Min=Avg=Max=64: Next = %d, %v; want 64, true", n, found)
	}
	tests := []struct {
		p  Params
		ok bool
	}{
		{DefaultParams, true},
		{Params{Min: 64, Avg: 64, Max: 64}, true},
		{Params{Min: 2 << 10, Avg: 8 << 10, Max: 64 << 10}, true},
		{Params{}, false},
		{Params{Min: 63, Avg: 1024, Max: 4096}, false},
		{Params{Min: 4096, Avg: 1024, Max: 8192}, false},
		{Params{Min: 1024, Avg: 8192, Max: 4096}, false},
		{Params{Min: 1024, Avg: 8192, Max: MaxSize + 1}, false},
		{Params{Min: -1, Avg: -1, Max: -1}, false},
	}
	for _, tt := range tests {
		if err := tt.p.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v.Validate() = %v, want ok: %v", tt.p, err, tt.ok)
		}
		if tt.ok && tt.p.clamp() != tt.p {
			t.Errorf("clamp changed valid %+v to %+v", tt.p, tt.p.clamp())
		}
	}
}

// cuts returns the chunk lengths Next produces over all of data.
func cuts(p Params, data []byte) []int {
	var out []int
	for len(data) > 0 {
		n, _ := p.Next(data)
		out = append(out, n)
		data = data[n:]
	}
	return out
}

func TestNextShortInput(t *testing.T) {
	p := DefaultParams
	data := randomData(p.Max, 1)
	for _, n := range []int{0, 1, 1000, p.Min - 1, p.Min} {
		if got, found := p.Next(data[:n]); got != n || found {
			t.Errorf("Next(%d bytes) = %d, %v; want %d, false", n, got, found, n)
		}
	}
}

func TestNextSizes(t *testing.T) {
	tests := []struct {
		p    Params
		size int
	}{
		{DefaultParams, 64 << 20},
		{Params{Min: 2 << 10, Avg: 8 << 10, Max: 32 << 10}, 8 << 20},
		{Params{Min: 64, Avg: 256, Max: 1024}, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.p), func(t *testing.T) {
			if raceEnabled {
				tt.size /= 4
			}
			lens := cuts(tt.p, randomData(tt.size, 2))
			for i, n := range lens[:len(lens)-1] {
				if n < tt.p.Min || n > tt.p.Max {
					t.Fatalf("chunk %d is %d bytes, outside [%d, %d]", i, n, tt.p.Min, tt.p.Max)
				}
			}
			avg := float64(tt.size) / float64(len(lens))
			t.Logf("%d chunks, average %.0f bytes (%.2f x Avg)", len(lens), avg, avg/float64(tt.p.Avg))
			if avg < 0.8*float64(tt.p.Avg) || avg > 1.35*float64(tt.p.Avg) {
				t.Errorf("average chunk is %.0f bytes, want near %d", avg, tt.p.Avg)
			}
		})
	}
}

// TestNextMaxCut: data without boundaries (constant bytes give a
// constant hash) is cut at exactly Max.
func TestNextMaxCut(t *testing.T) {
	p := Params{Min: 1 << 10, Avg: 4 << 10, Max: 16 << 10}
	data := bytes.Repeat([]byte{0x5a}, 5*p.Max+7)
	n, found := p.Next(data)
	if n != p.Max || !found {
		t.Fatalf("Next = %d, %v; want %d, true", n, found, p.Max)
	}
	if got := cuts(p, data); len(got) != 6 || got[5] != 7 {
		t.Errorf("cuts = %v, want five of %d and 7", got, p.Max)
	}
}

// TestNextContentDefined edits 64 MiB of data (16 MiB under -race) (insert one byte at the
// front, delete and insert in the middle): almost all chunks must stay
// the same, which is what makes shifted data deduplicate.
func TestNextContentDefined(t *testing.T) {
	p := DefaultParams
	size := 64 << 20
	if raceEnabled {
		size = 16 << 20
	}
	data := randomData(size, 3)
	mid := len(data) / 2
	edits := map[string][]byte{
		"insert at front":  append([]byte{0x42}, data...),
		"delete in middle": append(bytes.Clone(data[:mid]), data[mid+100:]...),
	}
	if !raceEnabled {
		edits["insert in middle"] = append(append(bytes.Clone(data[:mid]), "inserted"...), data[mid:]...)
	}
	orig := chunkSet(p, data)
	for name, edited := range edits {
		t.Run(name, func(t *testing.T) {
			shared := 0
			for off, lens := 0, cuts(p, edited); len(lens) > 0; lens = lens[1:] {
				if orig[Sum(edited[off:off+lens[0]])] {
					shared += lens[0]
				}
				off += lens[0]
			}
			// An edit should cost a chunk or two: at most 5% of 64 MiB,
			// whatever the size of the data.
			if lost := len(edited) - shared; lost > (64<<20)/20 {
				t.Errorf("%d of %d bytes are in changed chunks, want < %d (5%% of 64 MiB)", lost, len(edited), (64<<20)/20)
			}
		})
	}
}

func chunkSet(p Params, data []byte) map[ID]bool {
	set := make(map[ID]bool)
	for _, n := range cuts(p, data) {
		set[Sum(data[:n])] = true
		data = data[n:]
	}
	return set
}

// TestNextStreaming feeds data in pieces, as a writer would: keeping the
// unfinished tail and calling Next again with more bytes must give the
// cuts of the whole buffer.
func TestNextStreaming(t *testing.T) {
	p := Params{Min: 2 << 10, Avg: 8 << 10, Max: 32 << 10}
	data := randomData(4<<20, 4)
	want := cuts(p, data)
	var got []int
	var buf []byte
	for off, step := 0, 1; off < len(data); step = step*7%9973 + 1 {
		end := min(off+step, len(data))
		buf = append(buf, data[off:end]...)
		off = end
		for {
			n, found := p.Next(buf)
			if !found && off < len(data) {
				break // wait for more
			}
			if n == 0 {
				break
			}
			got = append(got, n)
			buf = buf[n:]
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("streaming cuts differ from whole-buffer cuts:\n got %v\nwant %v", got, want)
	}
}

// TestScanMatchesReference checks the unrolled scan against the plain
// one-byte-at-a-time gear loop, including every tail length.
func TestScanMatchesReference(t *testing.T) {
	reference := func(buf []byte, h, mask uint64) (int, uint64) {
		for i, c := range buf {
			h = h<<1 + gear[c]
			if h&mask == 0 {
				return i, h
			}
		}
		return -1, h
	}
	data := randomData(1<<20, 5)
	for _, bits := range []int{1, 3, 8, 13} {
		maskS, _ := masks(1 << (bits + 2))
		for n := range 40 {
			for off := 0; off < 2000; off += 97 {
				buf := data[off : off+n]
				gi, gh := scan(buf, 12345, maskS)
				wi, wh := reference(buf, 12345, maskS)
				if gi != wi || gi < 0 && gh != wh {
					t.Fatalf("scan(%d bytes at %d, %d-bit mask) = %d, %x; want %d, %x", n, off, bits, gi, gh, wi, wh)
				}
			}
		}
		lens := func(f func([]byte, uint64, uint64) (int, uint64)) (out []int) {
			for buf := data; ; {
				i, _ := f(buf, 0, maskS)
				if i < 0 {
					return out
				}
				out = append(out, i)
				buf = buf[i+1:]
			}
		}
		if got, want := lens(scan), lens(reference); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%d-bit mask: scan cuts differ from the reference", bits)
		}
	}
}

// TestNextGolden pins the cut points of DefaultParams. If it fails,
// chunking changed: new writes would stop deduplicating against data
// already stored. Change the golden value only on purpose.
func TestNextGolden(t *testing.T) {
	lens := cuts(DefaultParams, randomData(16<<20, 6))
	const want = "9e3711c77297698e"
	if got := Sum([]byte(fmt.Sprint(lens))).String()[:16]; got != want {
		t.Errorf("cuts = %v\nhash %s, want %s", lens, got, want)
	}
}

func TestNextClampsBadParams(t *testing.T) {
	data := randomData(100<<10, 7)
	for _, p := range []Params{{}, {Min: -5, Avg: -5, Max: -5}, {Min: 1 << 20, Avg: 10, Max: 100}, {Max: MaxSize * 2}} {
		if p.clamp().Validate() != nil {
			t.Errorf("%+v clamps to invalid %+v", p, p.clamp())
		}
		if n, _ := p.Next(data); n < 1 || n > len(data) {
			t.Errorf("%+v.Next = %d, want progress within the data", p, n)
		}
	}
}
