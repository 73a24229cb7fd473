package cluster

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/cluster/peers"
	"github.com/cairn-storage/cairn/cluster/pki"
)

// A client joining with only a gossip address learns where the metadata
// is and the replica setting of the storage nodes, and writes with it.
func TestClientLearnsFromTags(t *testing.T) {
	tc := newTestCluster(t, make([]string, 3), clusterOpts{replicas: 2, meta: "https://{name}:2379"})
	gw := tc.add("gw", "", peers.RoleGateway)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := gw.node.WaitStorage(ctx); err != nil {
		t.Fatal(err)
	}
	tc.waitMembers(4)
	want := []string{"https://n0:2379", "https://n1:2379", "https://n2:2379"}
	if got := gw.node.MetaEndpoints(); !slices.Equal(got, want) {
		t.Fatalf("MetaEndpoints = %v, want %v", got, want)
	}
	// The gateway's own setting is the default 3; it follows the nodes'.
	if v := gw.node.view.Load(); v.r != 2 || v.w != 2 {
		t.Fatalf("gateway writes with R=%d W=%d, want the storage nodes' 2/2", v.r, v.w)
	}
	set := putChunks(t, gw.node.Store(), 20, 90)
	tc.waitReplicated(set, 2, false)
	if err := gw.node.Redundancy(t.Context()); err != nil {
		t.Fatalf("redundancy with 3 nodes up, R=2: %v", err)
	}
	tc.nodes[2].stop(false)
	tc.nodes[1].stop(false)
	waitFor(t, 10*time.Second, func() error {
		if gw.node.Redundancy(t.Context()) == nil {
			return fmt.Errorf("one node up, R=2, and no under-replication reported")
		}
		return nil
	})
	waitFor(t, 10*time.Second, func() error {
		if eps := gw.node.MetaEndpoints(); len(eps) != 1 {
			return fmt.Errorf("endpoints of alive nodes: %v", eps)
		}
		return nil
	})
}

func TestWaitStorageTimesOut(t *testing.T) {
	tc := &testCluster{t: t, opts: clusterOpts{grace: time.Second}}
	var err error
	if tc.key, err = pki.NewGossipKey(); err != nil {
		t.Fatal(err)
	}
	gw := tc.add("lonely", "", peers.RoleGateway)
	defer gw.stop(false)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := gw.node.WaitStorage(ctx); err == nil {
		t.Fatal("a gateway alone found a storage node")
	}
}
