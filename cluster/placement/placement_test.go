package placement

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/cairn-storage/cairn/chunks"
)

func id(i int) chunks.ID { return chunks.Sum(fmt.Appendf(nil, "chunk %d", i)) }

func nodes(n, zones int) []Node {
	out := make([]Node, n)
	for i := range out {
		out[i] = Node{Name: fmt.Sprintf("node-%d", i), Weight: 1}
		if zones > 0 {
			out[i].Zone = fmt.Sprintf("z%d", i%zones)
		}
	}
	return out
}

func TestOwnersDeterministicAndOrderFree(t *testing.T) {
	ns := nodes(12, 3)
	a := New(ns)
	rev := slices.Clone(ns)
	slices.Reverse(rev)
	b := New(rev)
	for i := range 500 {
		oa, ob := a.Owners(id(i), 3, nil), b.Owners(id(i), 3, nil)
		for k := range oa {
			if a.Node(oa[k]).Name != b.Node(ob[k]).Name {
				t.Fatalf("chunk %d: owners depend on node order", i)
			}
		}
	}
}

func TestOwnersDistinctZones(t *testing.T) {
	for _, tc := range []struct{ n, zones, r, wantZones int }{
		{9, 3, 3, 3}, {8, 2, 3, 2}, {5, 5, 3, 3}, {6, 1, 3, 1}, {2, 2, 3, 2},
	} {
		tab := New(nodes(tc.n, tc.zones))
		for i := range 2000 {
			own := tab.Owners(id(i), tc.r, nil)
			if len(own) != min(tc.r, tc.n) {
				t.Fatalf("%+v: %d owners", tc, len(own))
			}
			zs := map[string]bool{}
			seen := map[int]bool{}
			for _, o := range own {
				if seen[o] {
					t.Fatalf("%+v: node %d twice", tc, o)
				}
				seen[o] = true
				zs[tab.Node(o).Zone] = true
			}
			if len(zs) != tc.wantZones {
				t.Fatalf("%+v: chunk %d owners span %d zones, want %d", tc, i, len(zs), tc.wantZones)
			}
		}
	}
}

func TestOrderStartsWithOwners(t *testing.T) {
	tab := New(nodes(10, 3))
	for i := range 200 {
		own := tab.Owners(id(i), 3, nil)
		ord := tab.Order(id(i), 3, nil)
		if len(ord) != 10 || !slices.Equal(ord[:3], own) {
			t.Fatalf("Order = %v, owners %v", ord, own)
		}
	}
}

func TestWeightsAndMovement(t *testing.T) {
	ns := nodes(10, 0)
	ns[0].Weight = 3
	tab := New(ns)
	const n = 100000
	counts := make([]int, len(ns))
	for i := range n {
		counts[tab.Owners(id(i), 1, nil)[0]]++
	}
	// Node 0 has 3/12 of the weight.
	if got := float64(counts[0]) / n; math.Abs(got-0.25) > 0.01 {
		t.Errorf("weight-3 node got %.3f of primaries, want 0.25", got)
	}
	grown := New(append(slices.Clone(ns), Node{Name: "new", Weight: 1}))
	moved := 0
	for i := range n {
		if tab.Node(tab.Owners(id(i), 1, nil)[0]).Name != grown.Node(grown.Owners(id(i), 1, nil)[0]).Name {
			moved++
		}
	}
	// The new node has 1/13 of the weight: only chunks it wins move.
	if got := float64(moved) / n; math.Abs(got-1.0/13) > 0.01 {
		t.Errorf("adding a node moved %.3f of chunks, want %.3f", got, 1.0/13)
	}
}
