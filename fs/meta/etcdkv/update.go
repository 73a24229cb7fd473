package etcdkv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairn-storage/cairn/fs/meta"
)

// Retry policy for conflicting commits: up to maxAttempts runs of fn, with
// a randomized, exponentially growing pause (at most maxBackoff) between
// them so that contending writers spread out.
const (
	maxAttempts = 50
	minBackoff  = time.Millisecond
	maxBackoff  = 64 * time.Millisecond
	// maxTransitRetries bounds the runs again after commits lost in
	// transit: a cluster that keeps losing them is down, not contended.
	maxTransitRetries = 5
)

// errConflict is a failed commit compare: something read has changed.
var errConflict = errors.New("etcdkv: read keys changed before commit")

// Update implements meta.KV.
func (kv *KV) Update(ctx context.Context, fn func(meta.Txn) error) error {
	if err := kv.enter(); err != nil {
		return err
	}
	defer kv.gate.Leave()
	transit := 0 // commits that failed in transit and were not applied
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := kv.update(ctx, fn)
		if errors.Is(err, errNotApplied) {
			if transit++; transit > maxTransitRetries {
				return fmt.Errorf("etcdkv: update: %d commits failed in transit: %w", transit, err)
			}
			err = errConflict
		}
		if !errors.Is(err, errConflict) {
			return err
		}
		if attempt == maxAttempts {
			return fmt.Errorf("etcdkv: update: %d attempts: %w", attempt, meta.ErrConflict)
		}
		if err := meta.Backoff(ctx, attempt, minBackoff, maxBackoff); err != nil {
			return err
		}
	}
}

// update runs fn once and commits; it returns errConflict (wrapped) if it
// should run again.
func (kv *KV) update(ctx context.Context, fn func(meta.Txn) error) error {
	t := newUpdate(ctx, kv)
	err := fn(t)
	switch {
	case t.restart: // its revision was compacted while fn ran
		return fmt.Errorf("%w: %w", errConflict, t.err)
	case err != nil:
		return err
	case t.err != nil: // fn carried on after a failed read
		return t.err
	case t.writes.len() == 0: // it read one snapshot and changed nothing
		return nil
	}
	return t.commit()
}

// commit applies the buffered writes if nothing the transaction read has
// changed since its revision.
func (t *txn) commit() error {
	p := t.kv.prefix
	cmps := make([]clientv3.Cmp, 0, len(t.reads)+len(t.spans))
	for key, r := range t.reads {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(p+key), "=", r.modRev))
	}
	for _, s := range mergeSpans(t.spans) {
		end := t.kv.endAll
		if s.end != nil {
			end = p + string(s.end)
		}
		// Every key now in the range was last changed at or before rev:
		// nothing was created or modified there since the transaction's
		// reads. (Deletions show in the per-key compares above.)
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(p+string(s.start)), "<", t.rev.Load()+1).WithRange(end))
	}
	ops := make([]clientv3.Op, 0, t.writes.len())
	for _, w := range t.writes.all() {
		if w.deleted {
			ops = append(ops, clientv3.OpDelete(p+string(w.key)))
		} else {
			ops = append(ops, clientv3.OpPut(p+string(w.key), string(w.value)))
		}
	}
	ctx, cancel := t.kv.rpcContext(t.ctx)
	defer cancel()
	resp, err := t.send(ctx, cmps, ops)
	switch {
	case err != nil && t.ctx.Err() == nil && ambiguous(err):
		switch rerr := t.resolve(err); {
		case rerr == nil:
			t.kv.log.Warn("etcdkv: a commit failed in transit but was applied", "err", err)
			return nil
		case errors.Is(rerr, errNotApplied):
			t.kv.log.Warn("etcdkv: a commit failed in transit and was not applied; running it again", "err", err)
			return fmt.Errorf("%w: %w", errNotApplied, err)
		default:
			return rerr
		}
	case err != nil:
		return commitError(err, len(cmps), len(ops))
	case !resp.Succeeded:
		return errConflict
	}
	return nil
}

// commitFault, set only by tests, makes commits fail in transit: before
// the commit is sent (not applied) when it returns an error for before
// true, or after it applied (the answer lost) for before false.
var commitFault func(before bool) error

// send sends the commit.
func (t *txn) send(ctx context.Context, cmps []clientv3.Cmp, ops []clientv3.Op) (*clientv3.TxnResponse, error) {
	if commitFault != nil {
		if err := commitFault(true); err != nil {
			return nil, err
		}
	}
	resp, err := t.kv.client.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if commitFault != nil && err == nil {
		if ferr := commitFault(false); ferr != nil {
			return nil, ferr
		}
	}
	return resp, err
}

// commitError maps etcd's refusals of an oversized request to
// meta.ErrTooBig.
func commitError(err error, cmps, ops int) error {
	if tooBig(err) {
		return fmt.Errorf("etcdkv: commit of %d compares and %d writes: %v: %w", cmps, ops, err, meta.ErrTooBig)
	}
	// The outcome of a commit that failed in transit is unknown.
	return fmt.Errorf("etcdkv: commit: %w", err)
}

// tooBig reports whether etcd or gRPC refused a request for its size.
func tooBig(err error) bool {
	if errors.Is(err, rpctypes.ErrTooManyOps) || errors.Is(err, rpctypes.ErrRequestTooLarge) {
		return true
	}
	s, ok := status.FromError(err)
	return ok && s.Code() == codes.ResourceExhausted && strings.Contains(s.Message(), "larger than max") // the gRPC message limit
}

// mergeSpans sorts spans and merges those that overlap or touch.
func mergeSpans(spans []span) []span {
	if len(spans) < 2 {
		return spans
	}
	slices.SortFunc(spans, func(a, b span) int { return bytes.Compare(a.start, b.start) })
	out := spans[:1]
	for _, s := range spans[1:] {
		cur := &out[len(out)-1]
		switch {
		case cur.end != nil && bytes.Compare(s.start, cur.end) > 0: // disjoint
			out = append(out, s)
		case cur.end == nil || s.end == nil:
			cur.end = nil
		case bytes.Compare(s.end, cur.end) > 0:
			cur.end = s.end
		}
	}
	return out
}
