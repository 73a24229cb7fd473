package fs

import (
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
)

// TestExtentApply checks the one-pass apply against replacing edit by edit.
func TestExtentApply(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for round := range 2000 {
		var l extentList
		for off := uint64(0); off < 1000; off += uint64(1 + rng.IntN(50)) {
			n := uint64(1 + rng.IntN(40))
			if rng.IntN(4) > 0 {
				l = append(l, extent{Off: off, Len: n, ChunkOff: uint32(rng.IntN(100))})
			}
			off += n
		}
		var edits []edit
		for lo := uint64(rng.IntN(30)); lo < 1100; lo += uint64(1 + rng.IntN(80)) {
			hi := lo + uint64(1+rng.IntN(60))
			ed := edit{lo: lo, hi: hi}
			if rng.IntN(3) > 0 {
				ed.add = &extent{Off: lo, Len: hi - lo, ChunkOff: 7}
			}
			edits = append(edits, ed)
			lo = hi
		}
		sort.Slice(edits, func(a, b int) bool { return edits[a].lo < edits[b].lo })
		want := append(extentList(nil), l...)
		for _, ed := range edits {
			var adds []extent
			if ed.add != nil {
				adds = []extent{*ed.add}
			}
			want = want.replace(ed.lo, ed.hi, adds)
		}
		if got := l.apply(edits); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("round %d: apply gave %v, want %v", round, got, want)
		}
	}
}
