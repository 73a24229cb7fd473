package cluster

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/chunks/chunkstest"
	"github.com/cairn-storage/cairn/cluster/peers"
	"github.com/cairn-storage/cairn/cluster/pki"
	"github.com/cairn-storage/cairn/cluster/rpc"
)

// putChunks writes n random chunks through s, syncs, and returns them.
func putChunks(t *testing.T, s chunks.Store, n int, seed uint64) map[chunks.ID][]byte {
	t.Helper()
	set := make(map[chunks.ID][]byte, n)
	for i := range n {
		data := chunkstest.Random(1000+i*37, seed+uint64(i))
		id := chunks.Sum(data)
		if err := s.Put(t.Context(), id, data, chunks.PutOptions{}); err != nil {
			t.Fatalf("Put: %v", err)
		}
		set[id] = data
	}
	if err := s.Sync(t.Context()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return set
}

// checkReadable reads every chunk back through s.
func checkReadable(t *testing.T, s chunks.Store, set map[chunks.ID][]byte) {
	t.Helper()
	for id, want := range set {
		got, err := s.Get(t.Context(), id)
		if err != nil {
			t.Fatalf("Get(%s): %v", id, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Get(%s): wrong data", id)
		}
	}
}

// replicated returns nil when every chunk has exactly want copies on
// distinct live nodes, in distinct zones when zones says so.
func (tc *testCluster) replicated(set map[chunks.ID][]byte, want int, zones bool) error {
	for id := range set {
		hs := tc.holders(id)
		if len(hs) != want {
			names := []string{}
			for _, h := range hs {
				names = append(names, h.name)
			}
			return fmt.Errorf("chunk %s on %d nodes %v, want %d", id, len(hs), names, want)
		}
		if zones {
			seen := map[string]bool{}
			for _, h := range hs {
				if seen[h.zone] {
					return fmt.Errorf("chunk %s has two copies in zone %s", id, h.zone)
				}
				seen[h.zone] = true
			}
		}
	}
	return nil
}

// waitReplicated waits until every chunk has exactly want copies (a
// suspicion on a loaded machine makes a write go to a fallback node,
// which hands its copy back to the owner when it is confirmed).
func (tc *testCluster) waitReplicated(set map[chunks.ID][]byte, want int, zones bool) {
	tc.t.Helper()
	waitFor(tc.t, 30*time.Second, func() error { return tc.replicated(set, want, zones) })
}

func TestFormAndReplicate(t *testing.T) {
	for _, n := range []int{3, 5} {
		t.Run(fmt.Sprintf("%d nodes", n), func(t *testing.T) {
			tc := newTestCluster(t, make([]string, n), clusterOpts{})
			set := putChunks(t, tc.nodes[n-1].node.Store(), 60, 1)
			tc.waitReplicated(set, 3, false)
			for _, tn := range tc.nodes {
				checkReadable(t, tn.node.Store(), set)
			}
			// Every node served its share (placement spreads the chunks).
			for _, tn := range tc.nodes {
				st, _ := tn.local.Stats(t.Context())
				if st.Chunks == 0 {
					t.Errorf("%s holds no chunk", tn.name)
				}
			}
		})
	}
}

func TestZones(t *testing.T) {
	tc := newTestCluster(t, []string{"a", "a", "b", "b", "c", "c"}, clusterOpts{})
	set := putChunks(t, tc.nodes[0].node.Store(), 80, 2)
	tc.waitReplicated(set, 3, true)
}

func TestReplicasCappedByNodes(t *testing.T) {
	tc := newTestCluster(t, []string{""}, clusterOpts{})
	s := tc.nodes[0].node.Store()
	set := putChunks(t, s, 5, 3)
	tc.waitReplicated(set, 1, false)
	if s.Degraded() != 0 {
		t.Errorf("a one-node cluster reported %d degraded puts: R is capped by the node count", s.Degraded())
	}
}

// TestConformance runs the chunk store suite on a storage node's Store
// (local short-circuit plus RPC) and on a gateway's (RPC only).
func TestConformance(t *testing.T) {
	for _, gateway := range []bool{false, true} {
		t.Run(fmt.Sprintf("gateway=%v", gateway), func(t *testing.T) {
			chunkstest.Test(t, func(t *testing.T) chunks.Store {
				tc := newTestCluster(t, make([]string, 3), clusterOpts{})
				if !gateway {
					return tc.nodes[0].node.Store()
				}
				gw := tc.add("gw", "", peers.RoleGateway)
				tc.waitMembers(4)
				return gw.node.Store()
			})
		})
	}
}

// TestRefusesStrangers checks that the chunk RPC needs a certificate of
// the cluster's CA: none, or one of another CA, gets no chunk.
func TestRefusesStrangers(t *testing.T) {
	tc := newTestCluster(t, []string{""}, clusterOpts{})
	n0 := tc.nodes[0]
	data := []byte("secret chunk")
	id := chunks.Sum(data)
	if err := n0.node.Store().Put(t.Context(), id, data, chunks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	addr := n0.node.RPCAddr()

	member := rpc.NewClient(tc.bundle("member", testCA).ClientTLS(), nil)
	if got, err := member.Get(t.Context(), addr, id); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("a cluster member's Get = %q, %v", got, err)
	}

	otherCA, err := pki.NewCA("other")
	if err != nil {
		t.Fatal(err)
	}
	stranger := rpc.NewClient(tc.bundle("stranger", otherCA).ClientTLS(), nil)
	if _, err := stranger.Get(t.Context(), addr, id); err == nil {
		t.Error("a node with another CA's certificate read a chunk")
	}
	other := chunkstest.Random(100, 9)
	if err := stranger.Put(t.Context(), addr, chunks.Sum(other), other, false); err == nil {
		t.Error("a node with another CA's certificate wrote a chunk")
	}

	// No client certificate at all, trusting the server.
	b := tc.bundle("anon", testCA)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: b.Roots, ServerName: "n0"}}}
	resp, err := hc.Get("https://" + addr + "/v1/chunks/" + id.String())
	if err == nil {
		resp.Body.Close()
		t.Errorf("a client without a certificate got %s", resp.Status)
	}
	// A member certificate for another name can't pose as n0 either.
	if _, err := rpc.NewClient(tc.bundle("n9", testCA).ClientTLS(), func(string) (string, bool) { return addr, true }).Get(t.Context(), "n1", id); err == nil {
		t.Error("client accepted n0's certificate for n1")
	}
}

// TestPutVerifiesOnReceipt sends a chunk whose body does not hash to its
// ID straight to a node: the node refuses it.
func TestPutVerifiesOnReceipt(t *testing.T) {
	tc := newTestCluster(t, []string{""}, clusterOpts{})
	c := rpc.NewClient(tc.bundle("member", testCA).ClientTLS(), nil)
	data := []byte("real")
	err := c.Put(t.Context(), tc.nodes[0].node.RPCAddr(), chunks.Sum([]byte("fake")), data, false)
	if !errors.Is(err, chunks.ErrIDMismatch) {
		t.Fatalf("Put of mismatched data: %v, want ErrIDMismatch", err)
	}
}

// TestOwnersAgree checks that every node computes the same owners.
func TestOwnersAgree(t *testing.T) {
	tc := newTestCluster(t, []string{"a", "b", "c", "a"}, clusterOpts{})
	for i := range 50 {
		id := chunks.Sum([]byte{byte(i)})
		want := tc.nodes[0].node.view.Load().owners(id)
		for _, tn := range tc.nodes[1:] {
			if got := tn.node.view.Load().owners(id); !slices.Equal(got, want) {
				t.Fatalf("%s: owners %v, n0: %v", tn.name, got, want)
			}
		}
	}
}

// TestGossipNeedsKey starts a node with another gossip key: it never
// becomes a member.
func TestGossipNeedsKey(t *testing.T) {
	tc := newTestCluster(t, []string{""}, clusterOpts{})
	good := tc.key
	var err error
	if tc.key, err = pki.NewGossipKey(); err != nil {
		t.Fatal(err)
	}
	tc.add("intruder", "", peers.RoleStorage)
	tc.key = good
	time.Sleep(time.Second)
	if n := len(tc.nodes[0].node.Members()); n != 1 {
		t.Fatalf("n0 sees %d members; a node with another gossip key joined", n)
	}
}
