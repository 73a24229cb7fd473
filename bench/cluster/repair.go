package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/cluster/pki"
)

// repairResult is the repair benchmark's outcome: a cluster of Nodes
// with R=Replicas is filled, one node is lost, and the survivors
// re-replicate its chunks once the grace period ends.
type repairResult struct {
	Nodes    int    `json:"nodes"`
	Replicas int    `json:"replicas"`
	Lost     string `json:"lost_node"`
	// Fill is the aggregate write that filled the cluster (one writer per
	// node).
	Fill phase `json:"fill"`
	// FillFallbacks counts the fill's copies written past a chunk's
	// owners because a write to an owner failed (the owner may have
	// stored it anyway: such a chunk has R+1 copies).
	FillFallbacks int64   `json:"fill_fallbacks"`
	Grace         float64 `json:"grace_seconds"`
	// LostChunks and LostBytes are what the lost node held: each needs one
	// new copy (unless a fallback gave it R+1).
	LostChunks int64 `json:"lost_chunks"`
	LostBytes  int64 `json:"lost_bytes"`
	// CopiedChunks and CopiedBytes are the survivors' growth: the copies
	// the repair made.
	CopiedChunks int64 `json:"copied_chunks"`
	CopiedBytes  int64 `json:"copied_bytes"`
	// Total is from the loss to every chunk having R copies on the
	// survivors; AfterGrace is Total minus the grace; CopyPhase is from
	// the first repair copy seen to the end.
	Total      float64 `json:"loss_to_repaired_seconds"`
	AfterGrace float64 `json:"after_grace_seconds"`
	CopyPhase  float64 `json:"copy_phase_seconds"`
	// Confirmed is from the loss to a clean repair scan on every survivor
	// (one that started after the copies were all there).
	Confirmed float64 `json:"loss_to_clean_scan_seconds,omitempty"`
	// GiBPerMin is CopiedBytes over AfterGrace; CopyGiBPerMin over
	// CopyPhase.
	GiBPerMin     float64 `json:"gib_per_min"`
	CopyGiBPerMin float64 `json:"copy_phase_gib_per_min"`
	// Repair is the CPU time and RPCs from the loss to the end.
	Repair phase  `json:"repair"`
	Note   string `json:"note,omitempty"`
	Err    string `json:"error,omitempty"`
}

// runRepair runs the repair benchmark on data (one stream per node).
func runRepair(ctx context.Context, cfg *config, data []stream, dir string, ca *pki.CA) (res *repairResult, err error) {
	res = &repairResult{Nodes: cfg.RepairNodes, Replicas: cfg.RepairReplicas, Grace: cfg.Grace.Seconds()}
	opts := clusterOpts{nodes: cfg.RepairNodes, replicas: cfg.RepairReplicas, grace: cfg.Grace,
		repairInterval: cfg.RepairInterval}
	tb, err := startCluster(ctx, dir, ca, opts, newLogger(cfg.Verbose))
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, tb.stop()) }()

	// Fill, one writer per node.
	jobs := make([]*job, len(data))
	for i := range data {
		jobs[i] = &job{store: tb.members[i%len(tb.members)].node.Store(), data: &data[i]}
	}
	res.Fill, err = timed(tb, func() error { return writeAll(ctx, jobs, cfg.Depth) })
	res.Fill.Bytes, res.Fill.Chunks = totals(jobs)
	if err != nil {
		return res, fmt.Errorf("fill: %w", err)
	}
	if d := tb.degraded(); d > 0 {
		return res, fmt.Errorf("fill: %d puts acknowledged with fewer than R copies", d)
	}
	var ids []chunks.ID
	for _, jb := range jobs {
		ids = append(ids, jb.ids...)
	}
	res.FillFallbacks = int64(tb.counter("cairn_cluster_placement_fallbacks_total"))
	if short, err := fewerCopies(ctx, tb.live(), ids, res.Replicas); err != nil || len(short) > 0 {
		return res, fmt.Errorf("after the fill: %d chunks have fewer than %d copies (%w)", len(short), res.Replicas, err)
	}

	// Lose the last node.
	victim := tb.members[len(tb.members)-1]
	res.Lost = victim.name
	lost, err := victim.local.Stats(ctx)
	if err != nil {
		return res, err
	}
	res.LostChunks, res.LostBytes = lost.Chunks, lost.PlainBytes
	survivors := tb.members[:len(tb.members)-1]
	before, err := localStats(ctx, survivors)
	if err != nil {
		return res, err
	}
	copied0, err := copiedSum(ctx, survivors)
	if err != nil {
		return res, err
	}
	want := min(res.Replicas, len(survivors))
	var loss, first, done time.Time
	res.Repair, err = timed(tb, func() error {
		loss = time.Now()
		if err := victim.kill(); err != nil {
			return fmt.Errorf("stop %s: %w", victim.name, err)
		}
		// Chunks stay repaired (the survivors own every copy they hold), so
		// each poll rechecks only the chunks still short of copies.
		short := ids
		return poll(ctx, cfg.RepairTimeout, 50*time.Millisecond, func() error {
			if first.IsZero() {
				if c, err := copiedSum(ctx, survivors); err == nil && c > copied0 {
					first = time.Now()
				}
			}
			var err error
			if short, err = fewerCopies(ctx, survivors, short, want); err != nil {
				return err
			}
			if len(short) > 0 {
				return fmt.Errorf("%d of %d chunks have fewer than %d copies on the survivors", len(short), len(ids), want)
			}
			done = time.Now()
			return nil
		})
	})
	if err != nil {
		return res, fmt.Errorf("repair: %w", err)
	}
	after, err := localStats(ctx, survivors)
	if err != nil {
		return res, err
	}
	res.CopiedChunks, res.CopiedBytes = after.Chunks-before.Chunks, after.PlainBytes-before.PlainBytes
	res.Repair.Bytes, res.Repair.Chunks = res.CopiedBytes, int(res.CopiedChunks)
	res.Total = done.Sub(loss).Seconds()
	res.AfterGrace = res.Total - res.Grace
	if !first.IsZero() {
		res.CopyPhase = done.Sub(first).Seconds()
	}
	gib := float64(res.CopiedBytes) / (1 << 30)
	if res.AfterGrace > 0 {
		res.GiBPerMin = gib / (res.AfterGrace / 60)
	}
	if res.CopyPhase > 0 {
		res.CopyGiBPerMin = gib / (res.CopyPhase / 60)
	}
	// How long until every survivor's own scan finds nothing to repair.
	err = poll(ctx, cfg.RepairTimeout, 50*time.Millisecond, func() error {
		for _, m := range survivors {
			st, err := m.node.Status(ctx)
			if err != nil {
				return err
			}
			if r := st.Repair; !r.LastScan.After(done) || r.Running || r.UnderReplicated > 0 || r.Error != "" {
				return fmt.Errorf("%s: no clean scan since the repair (%+v)", m.name, r)
			}
		}
		return nil
	})
	if err != nil {
		res.Note = fmt.Sprintf("no clean scan: %v", err)
		return res, nil
	}
	res.Confirmed = time.Since(loss).Seconds()
	return res, nil
}

// copiedSum sums the repair copies the members made since they started.
func copiedSum(ctx context.Context, ms []*member) (int64, error) {
	var n int64
	for _, m := range ms {
		st, err := m.node.Status(ctx)
		if err != nil {
			return 0, fmt.Errorf("status of %s: %w", m.name, err)
		}
		n += st.Repair.Copied
	}
	return n, nil
}

// fewerCopies returns the chunks of ids that are in fewer than want of
// the members' local stores.
func fewerCopies(ctx context.Context, ms []*member, ids []chunks.ID, want int) ([]chunks.ID, error) {
	var short []chunks.ID
	for _, id := range ids {
		have := 0
		for _, m := range ms {
			if _, err := m.local.Stat(ctx, id); err == nil {
				have++
			} else if !errors.Is(err, chunks.ErrNotFound) {
				return nil, fmt.Errorf("stat %s on %s: %w", id, m.name, err)
			}
		}
		if have < want {
			short = append(short, id)
		}
	}
	return short, nil
}
