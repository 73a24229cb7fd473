package etcdkv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// A commit that fails in transit (the member it went to is cut off, a
// leader election times it out) may or may not have been applied. Instead
// of failing the caller with an unknown outcome (EIO to a writer whose
// data may be stored), resolve it: read the keys it wrote back from the
// cluster. If it applied, every key it put holds its value, all at one
// revision newer than its reads, and every key it deleted is gone; then
// it succeeded. Otherwise nothing it wrote can be there as one commit,
// and its compares guarantee a retry cannot apply twice: run fn again.
//
// One window is left: a proposal still in flight when the read-back ran
// (forwarded to the leader, not yet committed) that commits later, between
// the retry's reads and its commit. The retry then conflicts and runs fn
// over a state that holds the first attempt. Such an error surfaces only
// after the keepalive timeout (3 s) or the request bound, by when a
// forwarded proposal has long committed or been dropped; before this the
// caller got EIO for every such commit, applied or not.

// resolveFor bounds how long a commit's outcome is looked for; the read
// goes to whichever member still answers.
const resolveFor = 20 * time.Second

// errNotApplied means a failed commit was found not applied.
var errNotApplied = errors.New("etcdkv: the failed commit was not applied")

// ambiguous reports whether a commit that failed with err may have been
// applied: anything but a refusal before it reached consensus.
func ambiguous(err error) bool {
	switch {
	case errors.Is(err, context.Canceled):
		return true // cut in flight: may have reached the leader
	case tooBig(err), errors.Is(err, rpctypes.ErrDuplicateKey), errors.Is(err, rpctypes.ErrCompacted):
		return false
	}
	return true
}

// resolve reads back what the failed commit wrote: nil if it applied,
// errNotApplied if it did not, another error if the cluster could not be
// asked.
func (t *txn) resolve(failed error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), resolveFor)
	defer cancel()
	writes := t.writes.all()
	gets := make([]clientv3.Op, len(writes))
	for i, w := range writes {
		gets[i] = clientv3.OpGet(t.kv.prefix + string(w.key))
	}
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		resp, err := t.kv.client.Txn(ctx).Then(gets...).Commit()
		if err == nil {
			return t.applied(writes, resp)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("etcdkv: commit failed (%w) and its outcome is unknown: %v", failed, err)
		case <-time.After(delay):
		}
	}
}

// applied checks the read-back of writes against what they set.
func (t *txn) applied(writes []write, resp *clientv3.TxnResponse) error {
	var rev int64
	for i, w := range writes {
		kvs := resp.Responses[i].GetResponseRange().GetKvs()
		if w.deleted {
			if len(kvs) != 0 {
				return errNotApplied
			}
			continue
		}
		if len(kvs) == 0 || !bytes.Equal(kvs[0].Value, w.value) || kvs[0].ModRevision <= t.rev.Load() {
			return errNotApplied
		}
		if rev != 0 && kvs[0].ModRevision != rev {
			return errNotApplied
		}
		rev = kvs[0].ModRevision
	}
	return nil
}
