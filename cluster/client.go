package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cairn-storage/cairn/cluster/peers"
)

// WaitStorage waits until the node sees an alive storage member (it has
// joined the cluster), or ctx ends: what a client checks before it
// serves anything.
func (n *Node) WaitStorage(ctx context.Context) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if len(n.refresh().up) > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no storage node of the cluster reached (joining %v): %w", n.cfg.Join, ctx.Err())
		case <-t.C:
		}
	}
}

// MetaEndpoints returns the metadata store's endpoints advertised by the
// alive storage members (Config.Meta), each once, sorted.
func (n *Node) MetaEndpoints() []string {
	var eps []string
	for _, p := range n.view.Load().peers {
		if p.Status != peers.StatusAlive || !p.IsStorage() {
			continue
		}
		for e := range strings.SplitSeq(p.Meta, ",") {
			if e = strings.TrimSpace(e); e != "" && !slices.Contains(eps, e) {
				eps = append(eps, e)
			}
		}
	}
	slices.Sort(eps)
	return eps
}

// Capacity returns the bytes of chunks the cluster can still take and
// holds in all, after replication: the alive storage nodes' capacities
// (less what each stores, for free), divided by R.
func (n *Node) Capacity(ctx context.Context) (free, total uint64, err error) {
	v := n.view.Load()
	var capSum, freeSum int64
	for _, p := range v.peers {
		if !p.IsStorage() || !v.up[p.Name] || p.Draining {
			continue
		}
		st, err := n.client.Stats(ctx, p.Name)
		if err != nil {
			return 0, 0, fmt.Errorf("capacity: %w", err)
		}
		capSum += p.Capacity
		freeSum += max(p.Capacity-st.StoredBytes, 0)
	}
	r := int64(max(v.r, 1))
	return uint64(freeSum / r), uint64(capSum / r), nil
}

// Check fails while fewer storage nodes are up than a write needs.
func (n *Node) Check(context.Context) error {
	v := n.view.Load()
	if len(v.up) == 0 {
		return fmt.Errorf("no storage node of the cluster is reachable")
	}
	if len(v.up) < v.w {
		return fmt.Errorf("%d storage nodes up; writes need %d", len(v.up), v.w)
	}
	return nil
}

// Redundancy fails while fewer storage nodes are up than the replicas
// asked for: new chunks get fewer copies (never silently).
func (n *Node) Redundancy(context.Context) error {
	v := n.view.Load()
	if up := len(v.up); up < v.asked {
		return fmt.Errorf("%d of the %d replicas asked for can be written: %d storage nodes up", min(up, v.asked), v.asked, up)
	}
	return nil
}
