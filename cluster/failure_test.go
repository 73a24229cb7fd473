package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/chunks/chunkstest"
)

// TestNodeLossAndRepair kills a node: every acknowledged chunk stays
// readable at once, writes go on, and after the grace period the repair
// loop restores R copies on the survivors.
func TestNodeLossAndRepair(t *testing.T) {
	tc := newTestCluster(t, make([]string, 4), clusterOpts{grace: 2 * time.Second})
	s := tc.nodes[0].node.Store()
	set := putChunks(t, s, 60, 10)
	tc.waitReplicated(set, 3, false)

	tc.nodes[3].stop(false)
	killed := time.Now()
	checkReadable(t, s, set)
	// Writes go on while the node is down (fallbacks stand in for it).
	for id, data := range putChunks(t, s, 20, 20) {
		set[id] = data
	}
	checkReadable(t, tc.nodes[1].node.Store(), set)

	tc.waitReplicated(set, 3, false)
	if d := time.Since(killed); d < tc.opts.grace {
		// Within the grace period only fallback copies may be written.
		t.Logf("repaired %v after the kill (grace %v): only the writes made while down needed it", d, tc.opts.grace)
	}
	checkReadable(t, s, set)
}

// TestRepairWaitsForGrace checks that a brief outage moves no data: the
// chunks written before it are not re-replicated within the grace period.
func TestRepairWaitsForGrace(t *testing.T) {
	tc := newTestCluster(t, make([]string, 4), clusterOpts{grace: time.Hour})
	s := tc.nodes[0].node.Store()
	set := putChunks(t, s, 40, 30)
	tc.waitReplicated(set, 3, false)
	tc.nodes[3].stop(false)
	waitFor(t, 10*time.Second, func() error {
		if v := tc.nodes[0].node.view.Load(); len(v.up) != 3 {
			return fmt.Errorf("n0 sees %d nodes up", len(v.up))
		}
		return nil
	})
	time.Sleep(time.Second) // several repair scans
	under := 0
	for id := range set {
		if len(tc.holders(id)) < 3 {
			under++
		}
	}
	if under == 0 {
		t.Fatal("no chunk was left with 2 copies: repair did not wait for the grace period")
	}
	checkReadable(t, s, set)
}

// TestWipedNodeRefilled restarts a node with an empty data directory:
// the other owners refill it.
func TestWipedNodeRefilled(t *testing.T) {
	tc := newTestCluster(t, make([]string, 3), clusterOpts{grace: time.Hour})
	set := putChunks(t, tc.nodes[0].node.Store(), 50, 40)
	tc.waitReplicated(set, 3, false)
	n2 := tc.nodes[2]
	n2.stop(false)
	n2.wipe()
	n2.start()
	tc.waitMembers(3)
	tc.waitReplicated(set, 3, false)
	checkReadable(t, n2.node.Store(), set)
}

// TestDrain drains a node: its chunks move to the other nodes, each
// keeping R copies, and the node ends up empty.
func TestDrain(t *testing.T) {
	tc := newTestCluster(t, make([]string, 4), clusterOpts{})
	set := putChunks(t, tc.nodes[0].node.Store(), 60, 50)
	tc.waitReplicated(set, 3, false)
	n3 := tc.nodes[3]
	if err := n3.node.SetDraining(true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() error {
		st, err := n3.node.Status(t.Context())
		if err != nil {
			return err
		}
		if !st.Drained {
			return fmt.Errorf("n3 still holds %d chunks", st.Local.Chunks)
		}
		return nil
	})
	for id := range set {
		for _, h := range tc.holders(id) {
			if h == n3 {
				t.Fatalf("drained node still holds %s", id)
			}
		}
	}
	tc.waitReplicated(set, 3, false)
	// New writes avoid the draining node once the writer has heard of
	// the drain (gossip: n3 can be empty before n1 learns it drains).
	waitFor(t, 10*time.Second, func() error {
		if v := tc.nodes[1].node.view.Load(); !slices.Contains(v.extra, n3.name) {
			return fmt.Errorf("n1 does not see %s draining yet", n3.name)
		}
		return nil
	})
	more := putChunks(t, tc.nodes[1].node.Store(), 20, 60)
	tc.waitReplicated(more, 3, false)
	if st, _ := n3.local.Stats(t.Context()); st.Chunks != 0 {
		t.Errorf("draining node took %d new chunks", st.Chunks)
	}
}

// TestJoinRebalances adds a node: chunks it now owns move to it and the
// old copies are deleted, leaving exactly R copies of each.
func TestJoinRebalances(t *testing.T) {
	tc := newTestCluster(t, make([]string, 3), clusterOpts{replicas: 2})
	set := putChunks(t, tc.nodes[0].node.Store(), 80, 70)
	tc.waitReplicated(set, 2, false)
	n3 := tc.add("n3", "", "storage")
	tc.waitMembers(4)
	// Right after the join every chunk still has its R old copies, so
	// "R copies" alone holds before anything moved: wait until each
	// copy sits on a current owner.
	waitFor(t, 30*time.Second, func() error {
		if err := tc.replicated(set, 2, false); err != nil {
			return err
		}
		v := n3.node.view.Load()
		for id := range set {
			owners := v.owners(id)
			for _, h := range tc.holders(id) {
				if h.name != owners[0] && h.name != owners[1] {
					return fmt.Errorf("chunk %s on %s, owners %v", id, h.name, owners)
				}
			}
		}
		return nil
	})
	if st, _ := n3.local.Stats(t.Context()); st.Chunks == 0 {
		t.Error("the new node got no chunk")
	}
}

// TestReadRepairsCorruption corrupts one replica on disk: Get still
// returns the right data and rewrites the bad copy.
func TestReadRepairsCorruption(t *testing.T) {
	tc := newTestCluster(t, make([]string, 3), clusterOpts{})
	s := tc.nodes[0].node.Store()
	data := chunkstest.Random(10000, 80)
	id := chunks.Sum(data)
	if err := s.Put(t.Context(), id, data, chunks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	first := tc.nodes[0].node.view.Load().owners(id)[0]
	var victim *testNode
	for _, tn := range tc.nodes {
		if tn.name == first {
			victim = tn
		}
	}
	h := id.String()
	path := filepath.Join(victim.dir, "chunks", h[:2], h[2:4], h)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 0xff
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := victim.local.Get(t.Context(), id); !errors.Is(err, chunks.ErrCorrupt) {
		t.Fatalf("corrupted replica: Get = %v, want ErrCorrupt", err)
	}
	got, err := tc.nodes[1].node.Store().Get(t.Context(), id)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get with a corrupt first replica = %v", err)
	}
	waitFor(t, 10*time.Second, func() error {
		_, err := victim.local.Get(t.Context(), id)
		return err
	})
}

// TestWritePolicy checks what Put does with fewer nodes up than R: with
// the default quorum (2 of 3) it succeeds degraded; with a quorum of 3
// it fails with ErrUnderReplicated, having written what it could.
func TestWritePolicy(t *testing.T) {
	for _, quorum := range []int{0, 3} {
		t.Run(fmt.Sprintf("quorum=%d", quorum), func(t *testing.T) {
			tc := newTestCluster(t, make([]string, 3), clusterOpts{quorum: quorum, grace: time.Hour})
			tc.nodes[2].stop(false)
			s := tc.nodes[0].node.Store()
			waitFor(t, 10*time.Second, func() error {
				if v := tc.nodes[0].node.view.Load(); len(v.up) != 2 {
					return fmt.Errorf("n0 sees %d nodes up", len(v.up))
				}
				return nil
			})
			data := chunkstest.Random(5000, 90)
			id := chunks.Sum(data)
			err := s.Put(t.Context(), id, data, chunks.PutOptions{})
			if quorum == 3 {
				var ure *UnderReplicatedError
				if !errors.Is(err, ErrUnderReplicated) || !errors.As(err, &ure) || ure.Copies != 2 || ure.Wanted != 3 {
					t.Fatalf("Put = %v, want 2 of 3 copies and ErrUnderReplicated", err)
				}
			} else if err != nil || s.Degraded() != 1 {
				t.Fatalf("Put = %v, degraded %d; want success, degraded 1", err, s.Degraded())
			}
			if n := len(tc.holders(id)); n != 2 {
				t.Errorf("chunk on %d nodes, want the 2 up", n)
			}
			if got, err := s.Get(t.Context(), id); err != nil || !bytes.Equal(got, data) {
				t.Errorf("Get: %v", err)
			}
		})
	}
}

// TestPutAwaitsRejoin writes while a node that every write needs (quorum
// 3 of 3) is restarting: instead of failing at once, Put waits for the
// node to come back (as after a short partition) and writes all copies.
func TestPutAwaitsRejoin(t *testing.T) {
	tc := newTestCluster(t, make([]string, 3), clusterOpts{quorum: 3, grace: time.Hour})
	tc.nodes[2].stop(false)
	waitFor(t, 10*time.Second, func() error {
		if v := tc.nodes[0].node.view.Load(); len(v.up) != 2 {
			return fmt.Errorf("n0 sees %d nodes up", len(v.up))
		}
		return nil
	})
	data := chunkstest.Random(5000, 91)
	id := chunks.Sum(data)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- tc.nodes[0].node.Store().Put(context.Background(), id, data, chunks.PutOptions{}) }()
	time.Sleep(100 * time.Millisecond) // the first try, on a view without the node, is over
	tc.nodes[2].start()
	if err := <-done; err != nil {
		t.Fatalf("Put while the third node rejoined: %v", err)
	}
	t.Logf("Put took %v", time.Since(start).Round(time.Millisecond))
	if n := len(tc.holders(id)); n != 3 {
		t.Errorf("chunk on %d nodes, want 3", n)
	}
}
