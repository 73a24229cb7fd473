package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cairn-storage/cairn/chunks"
)

// Delete removes chunk id from every storage node that is up; see
// chunks.Deleter. The removal is durable after the next Sync. A node that
// is down keeps its copy; if the chunk comes back through repair, garbage
// collection removes it again.
func (s *Store) Delete(ctx context.Context, id chunks.ID) error {
	if err := s.check(ctx); err != nil {
		return fmt.Errorf("chunk %s: delete: %w", id, err)
	}
	now := time.Now()
	s.mu.Lock()
	s.tombs[id] = now
	if len(s.tombs) > 10000 {
		for t, at := range s.tombs {
			if now.Sub(at) > 5*time.Minute {
				delete(s.tombs, t)
			}
		}
	}
	s.mu.Unlock()
	nodes := s.n.view.Load().upList()
	errs := parallel(nodes, func(_ int, node string) error {
		err := s.n.deleteOn(ctx, node, id)
		if err == nil {
			s.mu.Lock()
			if _, ok := s.pending[node]; !ok {
				s.pending[node] = nil // nothing to re-home, but sync it
			}
			s.mu.Unlock()
		}
		return err
	})
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("chunk %s: delete: %w", id, err)
	}
	return nil
}

// Sync makes every chunk Put (and every Delete) before the call durable
// on the nodes that took it; see Store.
func (s *Store) Sync(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return fmt.Errorf("sync cluster chunk store: %w", err)
	}
	return s.sync(ctx)
}

func (s *Store) sync(ctx context.Context) error {
	s.mu.Lock()
	batch := s.pending
	s.pending = make(map[string][]chunks.ID)
	s.mu.Unlock()
	nodes := make([]string, 0, len(batch))
	for node := range batch {
		nodes = append(nodes, node)
	}
	var failed []string
	var errs []error
	for i, err := range parallel(nodes, func(_ int, node string) error { return s.n.syncNode(ctx, node) }) {
		if err != nil {
			failed = append(failed, nodes[i])
			s.n.log.Warn("cluster: sync failed; re-replicating its chunks", "on", nodes[i], "chunks", len(batch[nodes[i]]), "err", err)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	// Chunks a node took but could not make durable: make sure enough
	// durable copies exist elsewhere.
	seen := make(map[chunks.ID]bool)
	for _, node := range failed {
		for _, id := range batch[node] {
			if seen[id] {
				continue
			}
			seen[id] = true
			if err := s.rehome(ctx, id, failed); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sync cluster chunk store: %w", err)
	}
	return nil
}

// rehome makes sure chunk id has R durable copies outside the nodes in
// failed, copying it from a healthy replica to the next nodes by rank.
func (s *Store) rehome(ctx context.Context, id chunks.ID, failed []string) error {
	v := s.n.view.Load()
	var holders []string
	for _, node := range v.order(id) {
		if slices.Contains(failed, node) {
			continue
		}
		if has, err := s.n.hasOn(ctx, node, []chunks.ID{id}); err == nil && has[0] {
			holders = append(holders, node)
		}
	}
	if len(holders) >= v.r {
		return nil
	}
	data, _, err := lookup(v, id, func(node string) ([]byte, error) {
		if !slices.Contains(holders, node) {
			return nil, chunks.ErrNotFound
		}
		return s.n.getFrom(ctx, node, id)
	})
	if err != nil {
		return &UnderReplicatedError{ID: id, Copies: 0, Wanted: v.r, Err: err}
	}
	written, errs := s.write(ctx, v, id, data, chunks.PutOptions{Trusted: true}, v.r-len(holders), append(failed, holders...))
	copies := len(holders)
	for _, err := range parallel(written, func(_ int, node string) error { return s.n.syncNode(ctx, node) }) {
		if err != nil {
			errs = append(errs, err)
		} else {
			copies++
		}
	}
	if copies < v.w {
		return &UnderReplicatedError{ID: id, Copies: copies, Wanted: v.r, Err: errors.Join(errs...)}
	}
	return nil
}

// Walk calls fn once for every chunk held by any node that is up; see
// chunks.Walker. It merges the nodes' walks, remembering every ID seen,
// so it costs a scan of the cluster and memory per chunk. A chunk held
// only by a node that is down is not reported.
func (s *Store) Walk(ctx context.Context, fn func(chunks.Info) error) error {
	if err := s.check(ctx); err != nil {
		return fmt.Errorf("cluster chunk store: walk: %w", err)
	}
	seen := make(map[chunks.ID]struct{})
	for _, node := range s.n.view.Load().upList() {
		var fnErr error
		err := s.n.walkOn(ctx, node, func(info chunks.Info) error {
			if _, dup := seen[info.ID]; dup {
				return nil
			}
			seen[info.ID] = struct{}{}
			fnErr = fn(info)
			return fnErr
		})
		if fnErr != nil {
			return fnErr
		}
		if err != nil {
			return fmt.Errorf("cluster chunk store: walk %s: %w", node, err)
		}
	}
	return nil
}

// Stats returns the logical counters of the cluster: each chunk counted
// once, StoredBytes the size of one copy (as Stat reports it). It walks
// every node; per-node physical figures are in the node status.
func (s *Store) Stats(ctx context.Context) (chunks.Stats, error) {
	var st chunks.Stats
	err := s.Walk(ctx, func(info chunks.Info) error {
		st.Chunks++
		st.PlainBytes += info.Size
		st.StoredBytes += info.Stored
		return nil
	})
	if err != nil {
		return chunks.Stats{}, err
	}
	return st, nil
}

// Close syncs what was written and closes the store (not the node: see
// Node.Close). Closing twice is a no-op.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	err := s.sync(context.Background())
	s.bg.Wait()
	return err
}
