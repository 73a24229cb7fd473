package cluster

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/cluster/peers"
	"github.com/cairn-storage/cairn/cluster/pki"
)

// The in-process test clusters: real serf with short gossip timings, real
// mutual TLS, real chunks.Local stores, each node on its own 127.0.0.x.

// testCA is one authority shared by the tests (key generation is slow
// under the race detector); each cluster issues its own node bundles.
var testCA = func() *pki.CA {
	ca, err := pki.NewCA("test")
	if err != nil {
		panic(err)
	}
	return ca
}()

// nextIP hands out loopback addresses so nodes look like hosts.
var nextIP atomic.Int32

type testCluster struct {
	t     *testing.T
	key   []byte
	opts  clusterOpts
	nodes []*testNode
}

// clusterOpts tune a test cluster.
type clusterOpts struct {
	replicas, quorum int
	grace            time.Duration
	meta             string // advertised by storage nodes: "URL-of-{name}"
}

type testNode struct {
	tc         *testCluster
	name, zone string
	role       peers.Role
	ip         string
	gossipPort int
	dir        string
	local      *chunks.Local
	node       *Node
	down       bool
}

func testLogger() *slog.Logger {
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newTestCluster starts storage nodes n0..n(len(zones)-1), joined to n0.
func newTestCluster(t *testing.T, zones []string, opts clusterOpts) *testCluster {
	t.Helper()
	if opts.grace == 0 {
		opts.grace = time.Second
	}
	tc := &testCluster{t: t, opts: opts}
	var err error
	if tc.key, err = pki.NewGossipKey(); err != nil {
		t.Fatal(err)
	}
	for i, z := range zones {
		tc.add(fmt.Sprintf("n%d", i), z, peers.RoleStorage)
	}
	tc.waitMembers(len(zones))
	t.Cleanup(func() {
		// In parallel, without the leave broadcast: a graceful leave
		// waits a second for it to spread.
		var wg sync.WaitGroup
		for _, tn := range tc.nodes {
			wg.Go(func() { tn.stop(false) })
		}
		wg.Wait()
	})
	return tc
}

// add starts a node and joins it to the first one.
func (tc *testCluster) add(name, zone string, role peers.Role) *testNode {
	tc.t.Helper()
	k := nextIP.Add(1)
	tn := &testNode{tc: tc, name: name, zone: zone, role: role,
		ip: fmt.Sprintf("127.0.%d.%d", 1+k/200, 10+k%200), dir: tc.t.TempDir()}
	tc.nodes = append(tc.nodes, tn)
	tn.start()
	return tn
}

// bundle issues a TLS bundle for name.
func (tc *testCluster) bundle(name string, ca *pki.CA) *pki.Bundle {
	tc.t.Helper()
	dir := filepath.Join(tc.t.TempDir(), name)
	if err := ca.WriteBundle(dir, name, pki.KindNode, nil, tc.key); err != nil {
		tc.t.Fatal(err)
	}
	b, err := pki.LoadBundle(dir)
	if err != nil {
		tc.t.Fatal(err)
	}
	return b
}

// fastGossip is memberlist tuned for tests on loopback (as Nomad's).
func fastGossip() *memberlist.Config {
	ml := memberlist.DefaultLocalConfig()
	// Failure detection in about a second, yet tolerant of the stalls of
	// a loaded CI machine (a refuted suspicion costs nothing).
	ml.ProbeInterval = 200 * time.Millisecond
	ml.ProbeTimeout = 400 * time.Millisecond
	ml.SuspicionMult = 4
	ml.RetransmitMult = 2
	ml.GossipInterval = 50 * time.Millisecond
	ml.PushPullInterval = time.Second
	ml.TCPTimeout = time.Second
	ml.DeadNodeReclaimTime = 100 * time.Millisecond
	return ml
}

func (tn *testNode) config() Config {
	tc := tn.tc
	cfg := Config{
		Name:           tn.name,
		Role:           tn.role,
		Zone:           tn.zone,
		Capacity:       1 << 40,
		BindAddr:       net.JoinHostPort(tn.ip, strconv.Itoa(tn.gossipPort)),
		RPCAddr:        net.JoinHostPort(tn.ip, "0"),
		TLS:            tc.bundle(tn.name, testCA),
		Replicas:       tc.opts.replicas,
		WriteQuorum:    tc.opts.quorum,
		Grace:          tc.opts.grace,
		RepairInterval: 100 * time.Millisecond,
		Settle:         300 * time.Millisecond,
		RPCTimeout:     5 * time.Second,
		Gossip:         fastGossip(),
		Logger:         testLogger(),
		FollowReplicas: tn.role == peers.RoleGateway,
	}
	if tc.opts.meta != "" && tn.role == peers.RoleStorage {
		cfg.Meta = strings.ReplaceAll(tc.opts.meta, "{name}", tn.name)
	}
	if len(tc.nodes) > 0 && tc.nodes[0] != tn && !tc.nodes[0].down {
		cfg.Join = []string{tc.nodes[0].node.GossipAddr()}
	} else {
		for _, o := range tc.nodes {
			if o != tn && !o.down {
				cfg.Join = []string{o.node.GossipAddr()}
				break
			}
		}
	}
	return cfg
}

// start (re)starts the node on its address and data directory.
func (tn *testNode) start() {
	t := tn.tc.t
	t.Helper()
	var backend Backend
	if tn.role == peers.RoleStorage {
		local, err := chunks.OpenLocal(tn.dir, chunks.LocalOptions{Logger: testLogger()})
		if err != nil {
			t.Fatal(err)
		}
		tn.local, backend = local, local
	}
	n, err := Start(tn.config(), backend)
	if err != nil {
		t.Fatalf("start %s: %v", tn.name, err)
	}
	tn.node, tn.down = n, false
	_, port, _ := net.SplitHostPort(n.GossipAddr())
	tn.gossipPort, _ = strconv.Atoi(port)
}

// stop stops the node: gracefully, or as a crash (no leave message).
func (tn *testNode) stop(graceful bool) {
	if tn.down {
		return
	}
	tn.down = true
	if graceful {
		tn.node.Store().Close()
		tn.node.Close()
	} else {
		tn.node.shutdown(false)
	}
	if tn.local != nil {
		tn.local.Close()
	}
}

// wipe deletes the node's data directory (it must be stopped).
func (tn *testNode) wipe() {
	if err := os.RemoveAll(tn.dir); err != nil {
		tn.tc.t.Fatal(err)
	}
}

// live returns the running nodes.
func (tc *testCluster) live() []*testNode {
	var out []*testNode
	for _, tn := range tc.nodes {
		if !tn.down {
			out = append(out, tn)
		}
	}
	return out
}

// waitMembers waits until every live node sees want alive members.
func (tc *testCluster) waitMembers(want int) {
	tc.t.Helper()
	waitFor(tc.t, 10*time.Second, func() error {
		for _, tn := range tc.live() {
			alive := 0
			for _, p := range tn.node.Members() {
				if p.Status == peers.StatusAlive {
					alive++
				}
			}
			if alive != want {
				return fmt.Errorf("%s sees %d alive members, want %d", tn.name, alive, want)
			}
		}
		return nil
	})
}

// holders returns the live storage nodes whose local store has chunk id.
func (tc *testCluster) holders(id chunks.ID) []*testNode {
	var out []*testNode
	for _, tn := range tc.live() {
		if tn.local == nil {
			continue
		}
		if _, err := tn.local.Stat(tc.t.Context(), id); err == nil {
			out = append(out, tn)
		}
	}
	return out
}

// waitFor polls cond until it returns nil, failing with its last error
// after timeout.
func waitFor(t *testing.T, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
