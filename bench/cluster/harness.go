package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/cluster"
	"github.com/cairn-storage/cairn/cluster/peers"
	"github.com/cairn-storage/cairn/cluster/pki"
)

// The in-process clusters, set up as cluster/harness_test.go does: real
// serf, real mutual TLS, a real chunks.Local per node, every node on
// 127.0.0.1 with ports picked by the kernel.

// clusterOpts describe one cluster to start.
type clusterOpts struct {
	nodes, replicas int
	// grace and repairInterval default to the cluster package's defaults
	// (5 min, 1 min): the throughput runs use production settings.
	grace, repairInterval time.Duration
}

// testbed is one running cluster.
type testbed struct {
	root string // the nodes' directories are under it
	ca   *pki.CA
	key  []byte
	opts clusterOpts
	log  *slog.Logger
	// reg collects every node's metrics (labeled node=NAME).
	reg     *prometheus.Registry
	members []*member
}

// member is one node of a testbed.
type member struct {
	name  string
	dir   string
	local *chunks.Local
	node  *cluster.Node
	down  bool
}

// newLogger returns the nodes' logger: warnings to stderr if verbose,
// else nothing.
func newLogger(verbose bool) *slog.Logger {
	if verbose {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// gossip is memberlist's LAN configuration (production timings), with
// only dead names reclaimed at once. The cluster tests' faster failure
// detection falsely suspects nodes when the 2 cores are saturated,
// which turns writes into fallback copies; the repair run's loss is a
// graceful leave, seen at once whatever the timings.
func gossip() *memberlist.Config {
	ml := memberlist.DefaultLANConfig()
	// Gossip more often: a leaving node's broadcast is out sooner, so
	// tearing a cluster down takes about a second, not serf's 5 s timeout.
	ml.GossipInterval = 50 * time.Millisecond
	ml.DeadNodeReclaimTime = 100 * time.Millisecond
	return ml
}

// startCluster starts opts.nodes storage nodes n0..n(N-1) under root, one
// zone each, joined to n0, and waits until every node places chunks on
// all of them.
func startCluster(ctx context.Context, root string, ca *pki.CA, opts clusterOpts, log *slog.Logger) (tb *testbed, err error) {
	if opts.nodes < 1 {
		return nil, fmt.Errorf("start cluster: %d nodes", opts.nodes)
	}
	key, err := pki.NewGossipKey()
	if err != nil {
		return nil, fmt.Errorf("gossip key: %w", err)
	}
	tb = &testbed{root: root, ca: ca, key: key, opts: opts, log: log, reg: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			err = errors.Join(err, tb.stop())
		}
	}()
	for i := range opts.nodes {
		if err := tb.add(fmt.Sprintf("n%d", i)); err != nil {
			return tb, err
		}
	}
	if err := tb.waitReady(ctx, 30*time.Second); err != nil {
		return tb, err
	}
	return tb, nil
}

// bundle issues name's TLS bundle, in memory.
func (tb *testbed) bundle(name string) (*pki.Bundle, error) {
	certPEM, keyPEM, err := tb.ca.Issue(name, pki.KindNode, nil)
	if err != nil {
		return nil, fmt.Errorf("issue certificate for %s: %w", name, err)
	}
	b, err := pki.NewBundle(tb.ca.CertPEM(), certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("tls bundle for %s: %w", name, err)
	}
	b.GossipKey = tb.key
	return b, nil
}

// add starts node name with an empty store and joins it to n0.
func (tb *testbed) add(name string) error {
	m := &member{name: name, dir: filepath.Join(tb.root, name)}
	b, err := tb.bundle(name)
	if err != nil {
		return err
	}
	if m.local, err = chunks.OpenLocal(m.dir, chunks.LocalOptions{Logger: tb.log}); err != nil {
		return fmt.Errorf("node %s: %w", name, err)
	}
	cfg := cluster.Config{
		Name:           name,
		Role:           peers.RoleStorage,
		Zone:           "zone-" + name,
		Capacity:       1 << 40,
		BindAddr:       "127.0.0.1:0",
		RPCAddr:        "127.0.0.1:0",
		TLS:            b,
		Replicas:       tb.opts.replicas,
		Grace:          tb.opts.grace,
		RepairInterval: tb.opts.repairInterval,
		Settle:         time.Second,
		Gossip:         gossip(),
		Logger:         tb.log,
		Registerer:     tb.reg,
	}
	if len(tb.members) > 0 {
		cfg.Join = []string{tb.members[0].node.GossipAddr()}
	}
	if m.node, err = cluster.Start(cfg, m.local); err != nil {
		return errors.Join(fmt.Errorf("start node %s: %w", name, err), m.local.Close())
	}
	tb.members = append(tb.members, m)
	return nil
}

// live returns the running members.
func (tb *testbed) live() []*member {
	var out []*member
	for _, m := range tb.members {
		if !m.down {
			out = append(out, m)
		}
	}
	return out
}

// waitReady waits until every live node has every live node in its
// placement set and the expected effective R.
func (tb *testbed) waitReady(ctx context.Context, timeout time.Duration) error {
	live := tb.live()
	want := min(max(tb.opts.replicas, 1), len(live))
	if tb.opts.replicas == 0 {
		want = min(cluster.DefaultReplicas, len(live))
	}
	return poll(ctx, timeout, 50*time.Millisecond, func() error {
		for _, m := range live {
			st, err := m.node.Status(ctx)
			if err != nil {
				return fmt.Errorf("status of %s: %w", m.name, err)
			}
			if st.PlacementNodes != len(live) || st.Replicas != want {
				return fmt.Errorf("%s places on %d nodes with R=%d, want %d with R=%d",
					m.name, st.PlacementNodes, st.Replicas, len(live), want)
			}
		}
		return nil
	})
}

// kill stops member m as a node loss: no drain, its chunks stay on its
// (closed) disk. The cluster package exports only the graceful Close
// (peers see the node leave at once; a crash, shutdown(false), is
// unexported), so that is what a loss is here.
func (m *member) kill() error {
	m.down = true
	return errors.Join(m.node.Close(), m.local.Close())
}

// stop closes every live node and deletes the nodes' directories. A
// graceful leave waits for its broadcast to spread, which needs live
// peers: all nodes but the last leave in parallel, then the last one,
// alone, at once.
func (tb *testbed) stop() error {
	live := tb.live()
	errs := make([]error, len(live))
	closeOne := func(i int) {
		m := live[i]
		m.down = true
		errs[i] = errors.Join(m.node.Store().Close(), m.node.Close(), m.local.Close())
	}
	var wg sync.WaitGroup
	for i := range max(len(live)-1, 0) {
		wg.Go(func() { closeOne(i) })
	}
	wg.Wait()
	if len(live) > 0 {
		closeOne(len(live) - 1)
	}
	if err := os.RemoveAll(tb.root); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop cluster: %w", err)
	}
	return nil
}

// poll calls cond every interval until it returns nil, failing with its
// last error after timeout or when ctx ends.
func poll(ctx context.Context, timeout, interval time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (waiting for: %w)", ctx.Err(), err)
		case <-time.After(interval):
		}
	}
}
