package cluster

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/cairn-storage/cairn/chunks"
)

// RepairStatus describes a storage node's repair loop.
type RepairStatus struct {
	Running bool `json:"running"`
	// Scans counts completed scans.
	Scans int64 `json:"scans"`
	// Scanned and Total are the progress of the current (or last) scan
	// over the local chunks.
	Scanned int64 `json:"scanned"`
	Total   int64 `json:"total"`
	// UnderReplicated counts, at the last complete scan, the chunks this
	// node is responsible for (or holds without owning) that had fewer
	// than R copies on their owners, before it repaired them.
	UnderReplicated int64 `json:"under_replicated"`
	// Copied and Deleted are totals since the node started: copies sent
	// to owners, and local copies removed after handing them off.
	Copied   int64         `json:"copied"`
	Deleted  int64         `json:"deleted"`
	LastScan time.Time     `json:"last_scan"`
	Duration time.Duration `json:"last_duration"`
	Error    string        `json:"error,omitempty"`
}

// repairer is a storage node's repair and rebalance loop. Every node
// walks its own chunks; for each chunk, with the owners computed from
// the current view:
//
//   - if the node is an owner and no owner ranked before it (and up)
//     holds the chunk, it is responsible: it copies the chunk to every
//     owner that is up and lacks it. Owners that are down keep their
//     ownership until the grace period ends; then the view drops them,
//     new owners appear, and this rule re-replicates.
//   - if the node is not an owner (a node joined and outranks it, it
//     was a fallback for a down owner, or it is draining), it copies the
//     chunk to the owners that lack it, and deletes its own copy only
//     once every one of the R owners is up and has made its copy
//     durable, and the membership has been stable for Config.Settle.
//
// Existence checks are batched (one /v1/has per node per batch) and
// copies go through the node's bandwidth limiter.
type repairer struct {
	n    *Node
	kick chan struct{}

	mu sync.Mutex
	st RepairStatus
}

// repairBatch is how many local chunks one round of checks covers.
const repairBatch = 512

func newRepairer(n *Node) *repairer {
	return &repairer{n: n, kick: make(chan struct{}, 1)}
}

// poke asks for a scan soon.
func (r *repairer) poke() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *repairer) run() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-r.n.stop; cancel() }()
	t := time.NewTimer(r.n.cfg.RepairInterval)
	defer t.Stop()
	for {
		select {
		case <-r.n.stop:
			return
		case <-t.C:
		case <-r.kick:
		}
		r.scan(ctx)
		t.Reset(r.n.cfg.RepairInterval)
	}
}

// status returns a copy of the loop's status.
func (r *repairer) status() RepairStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

func (r *repairer) update(fn func(st *RepairStatus)) {
	r.mu.Lock()
	fn(&r.st)
	r.mu.Unlock()
}

// scan runs one pass over the local chunks.
func (r *repairer) scan(ctx context.Context) {
	n := r.n
	start := time.Now()
	var total int64
	if st, err := n.local.Stats(ctx); err == nil {
		total = st.Chunks
	}
	r.update(func(st *RepairStatus) { st.Running, st.Scanned, st.Total = true, 0, total })
	var under int64
	batch := make([]chunks.Info, 0, repairBatch)
	flush := func() error {
		u, err := r.process(ctx, batch)
		under += u
		r.update(func(st *RepairStatus) { st.Scanned += int64(len(batch)) })
		if total > 0 {
			n.metrics.scanProgress.Set(float64(r.status().Scanned) / float64(total))
		}
		batch = batch[:0]
		return err
	}
	err := n.local.Walk(ctx, func(info chunks.Info) error {
		batch = append(batch, info)
		if len(batch) == repairBatch {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err == nil {
		err = n.local.Sync(ctx) // the deletes
	}
	d := time.Since(start)
	r.update(func(st *RepairStatus) {
		st.Running = false
		st.LastScan, st.Duration = start, d
		st.Error = ""
		if err != nil {
			st.Error = err.Error()
			return
		}
		st.Scans++
		st.UnderReplicated = under
	})
	if err != nil {
		if ctx.Err() == nil {
			n.log.Warn("cluster: repair scan", "err", err)
		}
		return
	}
	n.metrics.underRepl.Set(float64(under))
	n.metrics.scanSeconds.Observe(d.Seconds())
	n.metrics.scanProgress.Set(1)
}

// chunkPlan is what the repair loop does about one local chunk.
type chunkPlan struct {
	id      chunks.ID
	owners  []string
	targets []string // owners to copy to
	reason  string   // "repair" or "rebalance"
	handoff bool     // delete the local copy once every owner confirms
}

// process checks and repairs one batch of local chunks. It returns how
// many were under-replicated.
func (r *repairer) process(ctx context.Context, batch []chunks.Info) (int64, error) {
	n := r.n
	v := n.view.Load()
	if v.r == 0 {
		return 0, nil
	}
	settled := time.Since(v.changed) >= n.cfg.Settle
	self := n.cfg.Name

	// 1. Ask every up owner, in one call per node, which chunks it holds.
	plans := make([]chunkPlan, len(batch))
	ask := make(map[string][]int)
	for i, info := range batch {
		plans[i] = chunkPlan{id: info.ID, owners: v.owners(info.ID)}
		for _, o := range plans[i].owners {
			if o != self && v.up[o] {
				ask[o] = append(ask[o], i)
			}
		}
	}
	type answer struct {
		known bool
		has   map[int]bool
	}
	answers := make(map[string]*answer, len(ask))
	var mu sync.Mutex
	nodes := make([]string, 0, len(ask))
	for node := range ask {
		nodes = append(nodes, node)
	}
	parallel(nodes, func(_ int, node string) error {
		ids := make([]chunks.ID, len(ask[node]))
		for k, i := range ask[node] {
			ids[k] = batch[i].ID
		}
		res, err := n.hasOn(ctx, node, ids)
		a := &answer{known: err == nil, has: make(map[int]bool)}
		for k, i := range ask[node] {
			if err == nil && res[k] {
				a.has[i] = true
			}
		}
		mu.Lock()
		answers[node] = a
		mu.Unlock()
		return nil
	})
	// holds reports (has, known) for owner o and chunk i.
	holds := func(o string, i int) (bool, bool) {
		if o == self {
			return true, true
		}
		a := answers[o]
		if a == nil || !a.known {
			return false, false
		}
		return a.has[i], true
	}

	// 2. Decide, chunk by chunk.
	var under int64
	for i := range plans {
		p := &plans[i]
		rank := slices.Index(p.owners, self)
		copies, unknown, down := 0, false, false
		for _, o := range p.owners {
			has, known := holds(o, i)
			switch {
			case !v.up[o] && o != self:
				down = true
			case !known:
				unknown = true
			case has:
				copies++
			}
		}
		if rank >= 0 {
			responsible := true
			for _, o := range p.owners[:rank] {
				if has, known := holds(o, i); v.up[o] && (has || !known) {
					responsible = false
					break
				}
			}
			if !responsible {
				continue
			}
			p.reason = "repair"
		} else {
			p.reason = "rebalance"
			p.handoff = settled && !down && !unknown
		}
		if copies < v.r {
			under++
		}
		for _, o := range p.owners {
			if has, known := holds(o, i); o != self && v.up[o] && known && !has {
				p.targets = append(p.targets, o)
			}
		}
	}

	// 3. Copy, make the copies durable, then hand off.
	failed := r.copyAll(ctx, plans)
	syncSet := make(map[string]bool)
	for i := range plans {
		p := &plans[i]
		for _, t := range p.targets {
			syncSet[t] = true
		}
		if p.handoff {
			for _, o := range p.owners {
				syncSet[o] = true
			}
		}
	}
	syncNodes := make([]string, 0, len(syncSet))
	for node := range syncSet {
		syncNodes = append(syncNodes, node)
	}
	for k, err := range parallel(syncNodes, func(_ int, node string) error { return n.syncNode(ctx, node) }) {
		if err != nil {
			failed[syncNodes[k]] = true
		}
	}
	var errs []error
	for i := range plans {
		p := &plans[i]
		if !p.handoff || slices.ContainsFunc(p.owners, func(o string) bool { return failed[o] || failed[o+"/"+p.id.String()] }) {
			continue
		}
		if err := n.local.Delete(ctx, p.id); err != nil {
			errs = append(errs, err)
			continue
		}
		n.metrics.rebalanced.Inc()
		r.update(func(st *RepairStatus) { st.Deleted++ })
	}
	return under, errors.Join(errs...)
}

// copyAll sends every planned copy, a few at a time, through the
// bandwidth limiter. It returns the failures: "node" when the node
// failed, "node/ID" when one copy did.
func (r *repairer) copyAll(ctx context.Context, plans []chunkPlan) map[string]bool {
	n := r.n
	failed := make(map[string]bool)
	var mu sync.Mutex
	fail := func(key string) {
		mu.Lock()
		failed[key] = true
		mu.Unlock()
	}
	work := make(chan *chunkPlan)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for p := range work {
				data, err := n.local.Get(ctx, p.id)
				if err != nil { // corrupt here: another owner will repair us
					for _, t := range p.targets {
						fail(t + "/" + p.id.String())
					}
					p.handoff = false
					continue
				}
				for _, t := range p.targets {
					if err := n.limiter.WaitN(ctx, max(len(data), 1)); err != nil {
						fail(t + "/" + p.id.String())
						continue
					}
					if err := n.putTo(ctx, t, p.id, data, chunks.PutOptions{}); err != nil {
						n.log.Debug("cluster: repair copy", "id", p.id, "to", t, "err", err)
						fail(t + "/" + p.id.String())
						continue
					}
					n.metrics.repairCopies.WithLabelValues(p.reason).Inc()
					n.metrics.repairBytes.Add(float64(len(data)))
					r.update(func(st *RepairStatus) { st.Copied++ })
				}
			}
		})
	}
	for i := range plans {
		if len(plans[i].targets) > 0 {
			work <- &plans[i]
		}
	}
	close(work)
	wg.Wait()
	return failed
}
