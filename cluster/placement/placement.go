// Package placement decides which nodes hold a chunk: weighted rendezvous
// (highest random weight) hashing, zone-aware, over a fixed set of nodes.
//
// Every node gets a score for every chunk, score = -w / ln(h), where w is
// the node's weight (its capacity) and h in (0,1) is a hash of the node's
// name and the chunk ID. The chunk's owners are the R best-scoring nodes,
// taken first from distinct zones (the best node of each zone, best zones
// first) while there are zones left, then filled with the best remaining
// nodes. The first owner is exactly weight-proportional; the later ones
// are a weighted draw without replacement, so heavy nodes get slightly
// less than their share of second and third replicas.
//
// Properties that make this the right tool for a chunk store: no shared
// state (any process with the member list computes the same owners), a
// chunk moves only when a node that enters or leaves is among its owners
// (adding one node to N moves about 1/(N+1) of the replicas), and owners
// keep their rank when unrelated nodes come and go. The cost is O(N) per
// lookup, which is a few microseconds at a thousand nodes.
package placement

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"

	"github.com/cespare/xxhash/v2"

	"github.com/cairn-storage/cairn/chunks"
)

// Node is one placement candidate.
type Node struct {
	// Name identifies the node; it seeds the node's hash, so it must be
	// stable across restarts.
	Name string
	// Zone is the failure domain (rack, availability zone). Nodes with the
	// same zone, including the empty zone, share it.
	Zone string
	// Weight is the node's relative share of chunks, usually its capacity
	// in bytes. Weights <= 0 are treated as 1.
	Weight float64
}

// Table ranks a fixed set of nodes for chunk IDs. It is immutable and
// safe for concurrent use.
type Table struct {
	nodes  []Node
	seeds  []uint64
	weight []float64
	zone   []int // zone index of each node
	zones  int
	// uniform is set when all weights are equal: then the hash alone
	// ranks the nodes as the score would, and no logarithm is needed.
	uniform bool
}

// New returns the table of nodes. The order of nodes does not matter:
// the ranking depends only on names, zones and weights. Duplicate names
// are the caller's bug.
func New(nodes []Node) *Table {
	t := &Table{
		nodes:  slices.Clone(nodes),
		seeds:  make([]uint64, len(nodes)),
		weight: make([]float64, len(nodes)),
		zone:   make([]int, len(nodes)),
	}
	zoneIdx := make(map[string]int)
	for i, n := range t.nodes {
		t.seeds[i] = xxhash.Sum64String(n.Name)
		t.weight[i] = n.Weight
		if n.Weight <= 0 || math.IsNaN(n.Weight) || math.IsInf(n.Weight, 0) {
			t.weight[i] = 1
		}
		z, ok := zoneIdx[n.Zone]
		if !ok {
			z = len(zoneIdx)
			zoneIdx[n.Zone] = z
		}
		t.zone[i] = z
	}
	t.zones = len(zoneIdx)
	t.uniform = true
	for _, w := range t.weight {
		t.uniform = t.uniform && w == t.weight[0]
	}
	return t
}

// rankKey orders nodes for a chunk as Score does (higher wins), cheaply.
func (t *Table) rankKey(i int, id chunks.ID) float64 {
	h := hash01(t.seeds[i], id)
	if t.uniform {
		return h // -w/ln(h) grows with h
	}
	return score(t.weight[i], h)
}

// Len returns the number of nodes.
func (t *Table) Len() int { return len(t.nodes) }

// Node returns node i.
func (t *Table) Node(i int) Node { return t.nodes[i] }

// Zones returns the number of distinct zones.
func (t *Table) Zones() int { return t.zones }

// Score returns node i's score for chunk id: higher wins.
func (t *Table) Score(i int, id chunks.ID) float64 {
	return score(t.weight[i], hash01(t.seeds[i], id))
}

// score is -w/ln(h) for h in (0,1): an exponential race in which node i
// wins with probability w_i / sum(w).
func score(w, h float64) float64 { return -w / math.Log(h) }

// hash01 maps (node seed, chunk ID) to a uniform float64 in (0,1). Chunk
// IDs are already uniform (BLAKE3), so a strong 64-bit mix of the seed
// with the ID's first 16 bytes gives independent values per node.
func hash01(seed uint64, id chunks.ID) float64 {
	a := binary.LittleEndian.Uint64(id[0:8])
	b := binary.LittleEndian.Uint64(id[8:16])
	hi, lo := bits.Mul64(seed^a^0xa0761d6478bd642f, b^0xe7037ed1a0b428db)
	x := hi ^ lo
	// splitmix64 finalizer
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return (float64(x>>11) + 0.5) / (1 << 53)
}

// scored is a node index with its score for one chunk.
type scored struct {
	i int
	s float64
}

// Owners appends to dst the indices of the r owners of chunk id, best
// first, and returns it. It returns fewer when the table has fewer nodes.
// Owners come from distinct zones while there are zones left.
func (t *Table) Owners(id chunks.ID, r int, dst []int) []int {
	r = min(r, len(t.nodes))
	if r <= 0 {
		return dst
	}
	var topBuf [16]scored
	// The r best overall (when one zone, that is the answer), and room
	// for the fill after zone picks: at most r of the 2r best are taken.
	top := topBuf[:0]
	keep := 2 * r
	if t.zones == 1 {
		keep = r
	}
	var best []scored // best node of each zone
	if t.zones > 1 {
		best = make([]scored, t.zones)
		for z := range best {
			best[z].i = -1
		}
	}
	for i := range t.nodes {
		s := t.rankKey(i, id)
		top = insertTop(top, scored{i, s}, keep)
		if best != nil {
			if b := &best[t.zone[i]]; b.i < 0 || s > b.s || (s == b.s && i < b.i) {
				*b = scored{i, s}
			}
		}
	}
	if best == nil {
		for _, c := range top {
			dst = append(dst, c.i)
		}
		return dst
	}
	// Best zones first: the r best zone representatives.
	picks := topBuf[len(top):len(top)]
	if cap(picks) < r {
		picks = make([]scored, 0, r)
	}
	for _, b := range best {
		picks = insertTop(picks, b, r)
	}
	if len(picks) < r { // fewer zones than replicas: fill with the best left
		for _, c := range top {
			if len(picks) == r {
				break
			}
			if !slices.ContainsFunc(picks, func(p scored) bool { return p.i == c.i }) {
				picks = append(picks, c)
			}
		}
		slices.SortStableFunc(picks, func(a, b scored) int { return cmpScore(b, a) })
	}
	for _, c := range picks {
		dst = append(dst, c.i)
	}
	return dst
}

// Order appends every node index to dst: the r owners first (as Owners
// returns them), then the other nodes by decreasing score. Readers use it
// to look for copies beyond the owners; it costs a sort, so it is for the
// rare path.
func (t *Table) Order(id chunks.ID, r int, dst []int) []int {
	start := len(dst)
	dst = t.Owners(id, r, dst)
	owners := dst[start:]
	rest := make([]scored, 0, len(t.nodes)-len(owners))
	for i := range t.nodes {
		if !slices.Contains(owners, i) {
			rest = append(rest, scored{i, t.rankKey(i, id)})
		}
	}
	slices.SortFunc(rest, func(a, b scored) int { return cmpScore(b, a) })
	for _, c := range rest {
		dst = append(dst, c.i)
	}
	return dst
}

// cmpScore orders by score, then by lower index (a deterministic tie-break).
func cmpScore(a, b scored) int {
	switch {
	case a.s < b.s:
		return -1
	case a.s > b.s:
		return 1
	case a.i > b.i:
		return -1
	case a.i < b.i:
		return 1
	}
	return 0
}

// insertTop inserts c into top (sorted best first), keeping at most k.
func insertTop(top []scored, c scored, k int) []scored {
	if c.i < 0 {
		return top
	}
	if len(top) == k && cmpScore(c, top[k-1]) <= 0 {
		return top
	}
	if len(top) < k {
		top = append(top, c)
	} else {
		top[k-1] = c
	}
	for j := len(top) - 1; j > 0 && cmpScore(top[j], top[j-1]) > 0; j-- {
		top[j], top[j-1] = top[j-1], top[j]
	}
	return top
}
