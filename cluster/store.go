package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/cluster/rpc"
)

var (
	// ErrUnderReplicated is returned (wrapped in an *UnderReplicatedError)
	// when a write could not reach its write quorum. The copies it did
	// write stay, and the repair loop completes them.
	ErrUnderReplicated = errors.New("chunk under-replicated")
	// ErrUnavailable is returned (wrapped) when no replica answered and a
	// node that may hold the chunk could not be asked.
	ErrUnavailable = rpc.ErrUnavailable
	// errClosed is returned by a Store used after Close.
	errClosed = errors.New("cluster chunk store closed")
)

// UnderReplicatedError says how many copies a write reached.
type UnderReplicatedError struct {
	ID             chunks.ID
	Copies, Wanted int
	Err            error // why the others failed
}

func (e *UnderReplicatedError) Error() string {
	return fmt.Sprintf("chunk %s: %d of %d copies written: %v", e.ID, e.Copies, e.Wanted, e.Err)
}

// Unwrap returns ErrUnderReplicated and the cause.
func (e *UnderReplicatedError) Unwrap() []error { return []error{ErrUnderReplicated, e.Err} }

// Store is the chunk store of the whole cluster; it implements
// chunks.Store over the nodes' chunk RPC:
//
//   - Put writes the chunk to its R owners (weighted rendezvous placement,
//     distinct zones first) in parallel; an owner that is down or fails is
//     replaced by the next node in rank order, whose copy the repair loop
//     later hands back. Put returns when R copies are readable; with fewer
//     than R nodes up it still writes every one it can, returns nil when
//     it reached the write quorum (counted as degraded) and an
//     *UnderReplicatedError otherwise.
//   - Sync makes every earlier Put durable: one Sync per node that took
//     writes, in parallel, whatever the number of chunks. If a node fails
//     its Sync, the chunks it took are re-replicated elsewhere first.
//   - Get asks the owners in rank order, then the other nodes; every reply
//     is hashed, so a corrupt or missing replica fails over to the next,
//     and is rewritten in the background (read repair).
//   - Delete goes to every node that is up. Walk and Stats merge every
//     node's chunks (each chunk once), which costs a scan of the cluster.
type Store struct {
	n *Node

	mu      sync.Mutex
	pending map[string][]chunks.ID // per node: chunks written since its last Sync
	tombs   map[chunks.ID]time.Time

	degraded atomic.Int64 // Puts acknowledged with fewer than R copies
	closed   atomic.Bool
	bg       sync.WaitGroup
	repairs  chan struct{} // bounds concurrent read repairs
}

func newStore(n *Node) *Store {
	return &Store{
		n:       n,
		pending: make(map[string][]chunks.ID),
		tombs:   make(map[chunks.ID]time.Time),
		repairs: make(chan struct{}, 4),
	}
}

// Node returns the node the store belongs to.
func (s *Store) Node() *Node { return s.n }

// check reports why an operation can't start.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return errClosed
	}
	return ctx.Err()
}

// Degraded returns how many Puts were acknowledged with fewer than R
// copies (at least the write quorum) since the store started.
func (s *Store) Degraded() int64 { return s.degraded.Load() }

// Put stores data under id on R nodes; see Store and chunks.Putter.
func (s *Store) Put(ctx context.Context, id chunks.ID, data []byte, opts chunks.PutOptions) error {
	if err := s.check(ctx); err != nil {
		return fmt.Errorf("chunk %s: put: %w", id, err)
	}
	if len(data) > chunks.MaxSize {
		return fmt.Errorf("chunk %s: put %d bytes: %w (max %d)", id, len(data), chunks.ErrTooLarge, chunks.MaxSize)
	}
	if !opts.Trusted {
		if sum := chunks.Sum(data); sum != id {
			return fmt.Errorf("chunk %s: put: %w (data hashes to %s)", id, chunks.ErrIDMismatch, sum)
		}
		opts.Trusted = true // for the local store: hashed just now
	}
	v := s.n.view.Load()
	written, errs := s.write(ctx, v, id, data, opts, v.r, nil)
	v, written, errs = s.awaitQuorum(ctx, v, id, data, opts, written, errs)
	copies := len(written)
	m := s.n.metrics
	switch {
	case copies >= v.r && v.r > 0:
		m.puts.WithLabelValues("ok").Inc()
		return nil
	case copies >= v.w && v.w > 0:
		m.puts.WithLabelValues("degraded").Inc()
		s.degraded.Add(1)
		s.n.log.Debug("cluster: put degraded", "id", id, "copies", copies, "replicas", v.r, "err", errs)
		return nil
	}
	m.puts.WithLabelValues("failed").Inc()
	if err := errors.Join(errs...); callerFault(err) {
		return fmt.Errorf("chunk %s: put: %w", id, err)
	}
	if v.r == 0 {
		errs = append(errs, errors.New("no storage nodes"))
	}
	return &UnderReplicatedError{ID: id, Copies: copies, Wanted: max(v.r, 1), Err: errors.Join(errs...)}
}

// quorumWait is how long a write short of its quorum goes on trying: a
// node that rejoins after a partition flaps down and up for a moment, and
// one restarting refuses connections for a while.
const quorumWait = 3 * time.Second

// awaitQuorum retries a write short of its quorum on the view of the
// moment, every quorumRetry for up to quorumWait, adding copies on nodes
// that don't hold one yet. It returns the last view and what was written.
func (s *Store) awaitQuorum(ctx context.Context, v *view, id chunks.ID, data []byte, opts chunks.PutOptions,
	written []string, errs []error) (*view, []string, []error) {
	const quorumRetry = 250 * time.Millisecond
	ctx, cancel := context.WithTimeout(ctx, quorumWait)
	defer cancel()
	for !(v.w > 0 && len(written) >= v.w) && !callerFault(errors.Join(errs...)) {
		select {
		case <-ctx.Done():
			return v, written, errs
		case <-time.After(quorumRetry):
		}
		v = s.n.view.Load()
		if v.r <= len(written) {
			break
		}
		more, e := s.write(ctx, v, id, data, opts, v.r-len(written), written)
		written = append(written, more...)
		if len(e) > 0 {
			errs = e // why the latest try fell short
		}
	}
	return v, written, errs
}

// callerFault reports whether a write failed because of its arguments,
// which no other node or later try would change.
func callerFault(err error) bool {
	return errors.Is(err, chunks.ErrIDMismatch) || errors.Is(err, chunks.ErrTooLarge)
}

// write puts the chunk on up to want nodes that don't hold it yet:
// owners first, then the next nodes by rank, skipping the nodes in skip.
// It returns the nodes that took it and why the others failed.
func (s *Store) write(ctx context.Context, v *view, id chunks.ID, data []byte, opts chunks.PutOptions,
	want int, skip []string) ([]string, []error) {
	owners := v.owners(id)
	var cands []string
	for _, o := range owners {
		if v.up[o] && !slices.Contains(skip, o) {
			cands = append(cands, o)
		}
	}
	full := false
	tried := 0
	var written []string
	var errs []error
	for len(written) < want {
		if len(cands)-tried < want-len(written) && !full {
			// Not enough owners up: extend to the rest of the rank order
			// (the draining nodes at its end are no write targets).
			full = true
			for _, name := range v.order(id) {
				if !slices.Contains(cands, name) && !slices.Contains(skip, name) && !slices.Contains(v.extra, name) {
					cands = append(cands, name)
				}
			}
		}
		batch := cands[tried:min(len(cands), tried+want-len(written))]
		if len(batch) == 0 {
			break
		}
		tried += len(batch)
		for i, err := range parallel(batch, func(_ int, node string) error {
			return s.n.putTo(ctx, node, id, data, opts)
		}) {
			if err != nil {
				errs = append(errs, err)
				if callerFault(err) {
					return written, errs // no other node will differ
				}
				continue
			}
			written = append(written, batch[i])
			if !slices.Contains(owners, batch[i]) {
				s.n.metrics.fallbacks.Inc()
			}
			s.addPending(batch[i], id)
		}
	}
	return written, errs
}

// addPending records that node took chunk id and needs a Sync.
func (s *Store) addPending(node string, id chunks.ID) {
	s.mu.Lock()
	s.pending[node] = append(s.pending[node], id)
	s.mu.Unlock()
}

// Get returns the verified plaintext of chunk id; see Store.
func (s *Store) Get(ctx context.Context, id chunks.ID) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, fmt.Errorf("chunk %s: get: %w", id, err)
	}
	start := time.Now()
	v := s.n.view.Load()
	data, res, err := lookup(v, id, func(node string) ([]byte, error) {
		return s.n.getFrom(ctx, node, id)
	})
	if err != nil {
		return nil, fmt.Errorf("chunk %s: get: %w", id, err)
	}
	if res.tried > 1 {
		s.n.metrics.failovers.Inc()
	}
	if len(res.missing)+len(res.bad) > 0 {
		s.readRepair(v, id, data, start, res.missing, res.bad)
	}
	return data, nil
}

// Stat returns the Info of chunk id from the first replica that has it;
// Stored is the size of that one copy.
func (s *Store) Stat(ctx context.Context, id chunks.ID) (chunks.Info, error) {
	if err := s.check(ctx); err != nil {
		return chunks.Info{}, fmt.Errorf("chunk %s: stat: %w", id, err)
	}
	info, _, err := lookup(s.n.view.Load(), id, func(node string) (chunks.Info, error) {
		return s.n.statOn(ctx, node, id)
	})
	if err != nil {
		return chunks.Info{}, fmt.Errorf("chunk %s: stat: %w", id, err)
	}
	return info, nil
}

// lookupResult tells how a lookup went: the owners that lack the chunk
// or hold it corrupt, and how many nodes were asked.
type lookupResult struct {
	missing, bad []string
	tried        int
}

// lookup calls fn on the up nodes in read order (the owners by rank,
// this node first if it is one, then every other node by rank) until one succeeds. When none does, the
// error wraps ErrNotFound only if every node that may hold the chunk
// said so; otherwise ErrCorrupt (only corrupt copies found) or
// ErrUnavailable.
func lookup[T any](v *view, id chunks.ID, fn func(node string) (T, error)) (T, lookupResult, error) {
	var res lookupResult
	var zero T
	owners := v.owners(id)
	var errs []error
	unavailable := false
	var tried []string
	try := func(node string) (T, bool) {
		tried = append(tried, node)
		res.tried++
		out, err := fn(node)
		if err == nil {
			return out, true
		}
		owner := slices.Contains(owners, node)
		switch {
		case isNotFound(err):
			if owner {
				res.missing = append(res.missing, node)
			}
		case errors.Is(err, chunks.ErrCorrupt):
			if owner {
				res.bad = append(res.bad, node)
			}
			errs = append(errs, err)
		default:
			unavailable = true
			errs = append(errs, err)
		}
		return zero, false
	}
	// This node's own copy first: a read served from the local disk
	// costs no TLS, framing or second hash.
	order := owners
	if i := slices.Index(owners, v.self); i > 0 {
		order = append([]string{v.self}, slices.Delete(slices.Clone(owners), i, i+1)...)
	}
	for _, o := range order {
		if !v.up[o] {
			unavailable = true // a down owner may hold it
			errs = append(errs, fmt.Errorf("owner %s is down", o))
			continue
		}
		if out, ok := try(o); ok {
			return out, res, nil
		}
	}
	for _, node := range v.order(id) {
		if slices.Contains(tried, node) {
			continue
		}
		if out, ok := try(node); ok {
			return out, res, nil
		}
	}
	switch {
	case len(v.up) == 0:
		return zero, res, fmt.Errorf("%w: no storage node is up", ErrUnavailable)
	case unavailable:
		return zero, res, fmt.Errorf("%w: %w", ErrUnavailable, errors.Join(errs...))
	case len(errs) > 0:
		return zero, res, errors.Join(errs...) // corrupt copies only
	}
	return zero, res, chunks.ErrNotFound
}

// isNotFound reports whether err says a chunk is missing.
func isNotFound(err error) bool { return errors.Is(err, chunks.ErrNotFound) }

// readRepair rewrites, in the background, the owners that lacked chunk
// id or held it corrupt, unless the chunk was deleted since the read
// began (started). It is best effort: the repair loop catches the rest.
func (s *Store) readRepair(v *view, id chunks.ID, data []byte, started time.Time, missing, bad []string) {
	select {
	case s.repairs <- struct{}{}:
	default:
		return // busy: leave it to the repair loop
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer func() { <-s.repairs }()
		ctx, cancel := context.WithTimeout(context.Background(), 2*s.n.cfg.RPCTimeout)
		defer cancel()
		for _, node := range append(bad, missing...) {
			if s.deletedSince(id, started) {
				return
			}
			if slices.Contains(bad, node) {
				// A corrupt file is never overwritten by Put: remove it first.
				if err := s.n.deleteOn(ctx, node, id); err != nil {
					s.n.log.Warn("cluster: read repair: delete corrupt copy", "id", id, "on", node, "err", err)
					continue
				}
			}
			if err := s.n.limiter.WaitN(ctx, max(len(data), 1)); err != nil {
				return
			}
			err := s.n.putTo(ctx, node, id, data, chunks.PutOptions{Trusted: true})
			if err == nil {
				err = s.n.syncNode(ctx, node)
			}
			if err != nil {
				s.n.log.Warn("cluster: read repair", "id", id, "on", node, "err", err)
				continue
			}
			if s.deletedSince(id, started) { // lost a race with Delete: undo
				s.n.deleteOn(ctx, node, id)
				return
			}
			s.n.metrics.readRepairs.Inc()
			s.n.metrics.repairBytes.Add(float64(len(data)))
		}
	}()
}

// deletedSince reports whether this store deleted chunk id after t.
func (s *Store) deletedSince(id chunks.ID, t time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.tombs[id]
	return ok && !d.Before(t)
}

// wait waits for background read repairs.
func (s *Store) wait() { s.bg.Wait() }
