package cluster

import (
	"slices"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/cluster/peers"
	"github.com/cairn-storage/cairn/cluster/placement"
)

// A view is one immutable snapshot of the membership, with the placement
// table computed from it. Every decision about one chunk uses one view.
type view struct {
	// gen counts changes of the placement set or of liveness; changed is
	// when the last one was seen.
	gen     uint64
	changed time.Time

	self  string
	peers []peers.Peer // every cairn member, by name
	// table is the placement set: storage nodes that are not draining
	// and are alive, or down for less than the grace period.
	table *placement.Table
	// up names the storage nodes requests may be sent to (alive).
	up map[string]bool
	// extra are the up storage nodes outside the table (draining), which
	// readers still ask for copies.
	extra []string
	// r and w are the effective replica count and write quorum: the
	// configured ones capped by the size of the placement set.
	r, w int
	// asked is the replica count asked for, before the cap.
	asked int
}

// advertisedReplicas is the most common replica setting the storage
// members advertise (the highest on a tie), or r, w when none does.
func advertisedReplicas(members []peers.Peer, r, w int) (int, int) {
	type setting struct{ r, w int }
	count := map[setting]int{}
	best, bestN := setting{r, w}, 0
	for _, p := range members {
		if !p.IsStorage() || p.Replicas == 0 {
			continue
		}
		s := setting{p.Replicas, p.WriteQuorum}
		count[s]++
		if n := count[s]; n > bestN || n == bestN && s.r > best.r {
			best, bestN = s, n
		}
	}
	return best.r, best.w
}

// newView builds a view from the members. down says for how long each
// not-alive member has been seen down.
func newView(self string, members []peers.Peer, downFor func(name string) time.Duration, cfg *Config) *view {
	v := &view{self: self, peers: members, up: make(map[string]bool)}
	var nodes []placement.Node
	for _, p := range members {
		if !p.IsStorage() {
			continue
		}
		alive := p.Status == peers.StatusAlive
		if alive {
			v.up[p.Name] = true
		}
		switch {
		case p.Draining:
			if alive {
				v.extra = append(v.extra, p.Name)
			}
		case alive || downFor(p.Name) < cfg.Grace:
			nodes = append(nodes, placement.Node{Name: p.Name, Zone: p.Zone, Weight: float64(p.Capacity)})
		}
	}
	v.table = placement.New(nodes)
	r, w := cfg.Replicas, cfg.WriteQuorum
	if cfg.FollowReplicas {
		r, w = advertisedReplicas(members, r, w)
	}
	v.asked = r
	v.r = min(r, v.table.Len())
	v.w = min(w, v.r)
	return v
}

// sameAs reports whether v places and routes like o does.
func (v *view) sameAs(o *view) bool {
	if o == nil || v.table.Len() != o.table.Len() || len(v.up) != len(o.up) || !slices.Equal(v.extra, o.extra) {
		return false
	}
	for i := range v.table.Len() {
		if v.table.Node(i) != o.table.Node(i) {
			return false
		}
	}
	for n := range v.up {
		if !o.up[n] {
			return false
		}
	}
	return true
}

// owners returns the names of chunk id's owners, best first (v.r of them).
func (v *view) owners(id chunks.ID) []string {
	var buf [8]int
	idx := v.table.Owners(id, v.r, buf[:0])
	names := make([]string, len(idx))
	for i, n := range idx {
		names[i] = v.table.Node(n).Name
	}
	return names
}

// order returns every up storage node for chunk id: the owners first, in
// rank order, then the rest of the placement set by rank, then the
// draining nodes. Owners that are down are left out.
func (v *view) order(id chunks.ID) []string {
	idx := v.table.Order(id, v.r, nil)
	names := make([]string, 0, len(idx)+len(v.extra))
	for _, n := range idx {
		if name := v.table.Node(n).Name; v.up[name] {
			names = append(names, name)
		}
	}
	return append(names, v.extra...)
}

// peer returns the member named name.
func (v *view) peer(name string) (peers.Peer, bool) {
	i, ok := slices.BinarySearchFunc(v.peers, name, func(p peers.Peer, n string) int {
		switch {
		case p.Name < n:
			return -1
		case p.Name > n:
			return 1
		}
		return 0
	})
	if !ok {
		return peers.Peer{}, false
	}
	return v.peers[i], true
}

// upList returns the names of the up storage nodes, sorted.
func (v *view) upList() []string {
	names := make([]string, 0, len(v.up))
	for n := range v.up {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
