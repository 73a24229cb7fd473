package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/cluster/pki"
)

// scenario is one sequential write-then-read run.
type scenario struct {
	Name string `json:"name"`
	// Nodes is the cluster size; 0 means a plain chunks.Local, no cluster.
	Nodes    int `json:"nodes"`
	Replicas int `json:"replicas"`
	Writers  int `json:"writers"`
	// FS writes one file through the file system core instead of chunks
	// through the store (one writer).
	FS bool `json:"fs,omitempty"`
}

// scenarios are the throughput runs, in order. Each cluster run is
// compared with the plain local store with as many writers.
var scenarios = []scenario{
	{Name: "local", Nodes: 0, Replicas: 1, Writers: 1},
	{Name: "node1", Nodes: 1, Replicas: 1, Writers: 1},
	{Name: "r3", Nodes: 3, Replicas: 3, Writers: 1},
	{Name: "r2", Nodes: 3, Replicas: 2, Writers: 1},
	{Name: "local-3w", Nodes: 0, Replicas: 1, Writers: 3},
	{Name: "r3-3w", Nodes: 3, Replicas: 3, Writers: 3},
	{Name: "r2-3w", Nodes: 3, Replicas: 2, Writers: 3},
	{Name: "fs-local", Nodes: 0, Replicas: 1, Writers: 1, FS: true},
	{Name: "fs-r3", Nodes: 3, Replicas: 3, Writers: 1, FS: true},
}

// scenarioNames lists the valid -scenarios.
func scenarioNames() []string {
	var out []string
	for _, s := range scenarios {
		out = append(out, s.Name)
	}
	return out
}

// title describes the scenario for the table.
func (s scenario) title() string {
	w := "1 writer"
	if s.Writers > 1 {
		w = fmt.Sprintf("%d writers", s.Writers)
	}
	switch {
	case s.FS && s.Nodes == 0:
		return "fs over chunks.Local, 1 file"
	case s.FS:
		return fmt.Sprintf("fs over %d nodes R=%d, 1 file", s.Nodes, s.Replicas)
	case s.Nodes == 0:
		return "plain chunks.Local, " + w
	case s.Nodes == 1:
		return "1-node cluster (Store), " + w
	}
	return fmt.Sprintf("%d nodes R=%d, %s", s.Nodes, s.Replicas, w)
}

// throughput is the result of one scenario: the median run's write and
// read, and their ratio to the plain local store's.
type throughput struct {
	scenario
	Title      string  `json:"title"`
	Write      phase   `json:"write"`
	Read       phase   `json:"read"`
	WriteRatio float64 `json:"write_over_local,omitempty"`
	ReadRatio  float64 `json:"read_over_local,omitempty"`
	// RemoteGets is the share of reads served over the RPC rather than by
	// the reading node's own store.
	RemoteGets float64 `json:"remote_gets,omitempty"`
	// Fallbacks counts copies written past a chunk's owners (an owner
	// seemed down or failed), over every run.
	Fallbacks int64  `json:"fallbacks,omitempty"`
	Runs      int    `json:"runs"`
	Err       string `json:"error,omitempty"`
}

// runScenario runs sc runs times on data (split in sc.Writers streams)
// in fresh stores under root, and keeps the median write and read.
func runScenario(ctx context.Context, cfg *config, sc scenario, data []stream, root string, ca *pki.CA) (*throughput, error) {
	res := &throughput{scenario: sc, Title: sc.title()}
	var writes, reads []phase
	for run := range cfg.Runs {
		var w, r phase
		var fallbacks int64
		var err error
		// The label marks the nodes' goroutines too (they start inside):
		// go tool pprof -tagfocus scenario=r3 splits a -cpuprofile.
		pprof.Do(ctx, pprof.Labels("scenario", sc.Name), func(ctx context.Context) {
			dir := filepath.Join(root, fmt.Sprintf("%s-%d", sc.Name, run))
			if sc.FS {
				w, r, fallbacks, err = runFSOnce(ctx, cfg, sc, data[0].raw, dir, ca)
			} else {
				w, r, fallbacks, err = runOnce(ctx, cfg, sc, data, dir, ca)
			}
		})
		if err != nil {
			return res, fmt.Errorf("%s: %w", sc.Name, err)
		}
		writes, reads = append(writes, w), append(reads, r)
		res.Fallbacks += fallbacks
		res.Runs++
	}
	res.Write, res.Read = median(writes), median(reads)
	if sc.Nodes > 0 && !sc.FS {
		remote := float64(res.Read.RPC["get"].Count)
		if _, n := totalsOf(data); n > 0 {
			res.RemoteGets = remote / float64(n)
		}
	}
	return res, nil
}

// runOnce writes then reads data once in fresh stores under dir.
func runOnce(ctx context.Context, cfg *config, sc scenario, data []stream, dir string, ca *pki.CA) (w, r phase, fallbacks int64, err error) {
	jobs := make([]*job, len(data))
	readers := make([]store, len(data))
	var tb *testbed
	if sc.Nodes == 0 {
		local, err := chunks.OpenLocal(dir, chunks.LocalOptions{Logger: newLogger(cfg.Verbose)})
		if err != nil {
			return w, r, 0, err
		}
		defer func() { err = errors.Join(err, local.Close(), os.RemoveAll(dir)) }()
		for i := range data {
			jobs[i], readers[i] = &job{store: local, data: &data[i]}, local
		}
	} else {
		opts := clusterOpts{nodes: sc.Nodes, replicas: sc.Replicas}
		if tb, err = startCluster(ctx, dir, ca, opts, newLogger(cfg.Verbose)); err != nil {
			return w, r, 0, err
		}
		defer func() { err = errors.Join(err, tb.stop()) }()
		// Writer i writes through node i; it reads back what writer i+1
		// wrote, through the node after the one that wrote it (a single
		// writer on n0 reads through n1: not its own cache, if it had one).
		for i := range data {
			jobs[i] = &job{store: tb.members[i%sc.Nodes].node.Store(), data: &data[i]}
		}
		for i := range data {
			k := (i + 1) % len(data)
			readers[k] = tb.members[(k+1)%sc.Nodes].node.Store()
		}
	}
	bytes, n := totals(jobs)
	w, err = timed(tb, func() error { return writeAll(ctx, jobs, cfg.Depth) })
	w.Bytes, w.Chunks = bytes, n
	if err != nil {
		return w, r, 0, fmt.Errorf("write: %w", err)
	}
	if tb != nil {
		if d := tb.degraded(); d > 0 {
			return w, r, 0, fmt.Errorf("write: %d puts acknowledged with fewer than R copies", d)
		}
		fallbacks = int64(tb.counter("cairn_cluster_placement_fallbacks_total"))
	}
	r, err = timed(tb, func() error { return readAll(ctx, jobs, readers, cfg.Depth) })
	r.Bytes, r.Chunks = bytes, n
	if err != nil {
		return w, r, fallbacks, fmt.Errorf("read: %w", err)
	}
	return w, r, fallbacks, nil
}

// totalsOf sums the bytes and chunks of streams.
func totalsOf(data []stream) (int64, int) {
	var b int64
	var n int
	for _, s := range data {
		b += s.bytes
		n += len(s.chunks)
	}
	return b, n
}

// median returns the phase of median duration.
func median(ps []phase) phase {
	if len(ps) == 0 {
		return phase{}
	}
	ps = slices.Clone(ps)
	sort.Slice(ps, func(i, j int) bool { return ps[i].Seconds < ps[j].Seconds })
	return ps[len(ps)/2]
}

// setRatios fills in each cluster result's ratio to the plain local
// store with the same number of writers (the fs over a plain local store
// for the fs scenarios).
func setRatios(results []*throughput) {
	type kind struct {
		fs      bool
		writers int
	}
	base := make(map[kind]*throughput)
	for _, r := range results {
		if r.Nodes == 0 && r.Err == "" {
			base[kind{r.FS, r.Writers}] = r
		}
	}
	for _, r := range results {
		b := base[kind{r.FS, r.Writers}]
		if r.Nodes == 0 || b == nil || r.Err != "" {
			continue
		}
		if v := b.Write.MiBps(); v > 0 {
			r.WriteRatio = r.Write.MiBps() / v
		}
		if v := b.Read.MiBps(); v > 0 {
			r.ReadRatio = r.Read.MiBps() / v
		}
	}
}

// warmUp writes and reads data once through a plain local store under
// dir, untimed: the first run of a process pays for growing the heap
// and faulting its memory in, which would count against the baseline.
func warmUp(ctx context.Context, cfg *config, data []stream, dir string) error {
	_, _, _, err := runOnce(ctx, cfg, scenario{Name: "warm-up", Writers: len(data)}, data, dir, nil)
	if err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	return nil
}
