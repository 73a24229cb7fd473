package badgerkv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/cairn-storage/cairn/fs/meta"
)

// Retry policy for conflicting commits: up to maxAttempts runs of fn, with
// a randomized, exponentially growing pause (at most maxBackoff) between
// them so that contending writers spread out.
const (
	maxAttempts = 50
	minBackoff  = 50 * time.Microsecond
	maxBackoff  = 10 * time.Millisecond
)

// Update implements meta.KV.
func (kv *KV) Update(ctx context.Context, fn func(meta.Txn) error) error {
	if err := kv.enter(); err != nil {
		return err
	}
	defer kv.gate.Leave()
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		retry, err := kv.update(fn)
		if !retry {
			return err
		}
		if attempt == maxAttempts {
			return fmt.Errorf("badgerkv: update: %d attempts: %w", attempt, meta.ErrConflict)
		}
		if err := meta.Backoff(ctx, attempt, minBackoff, maxBackoff); err != nil {
			return err
		}
	}
}

// update runs fn once and commits; retry reports a commit conflict.
func (kv *KV) update(fn func(meta.Txn) error) (retry bool, err error) {
	btx := kv.db.NewTransaction(true)
	defer btx.Discard()
	if err := fn(txn{reader{btx}, kv.maxValue}); err != nil {
		return false, err
	}
	switch err := btx.Commit(); {
	case err == nil:
		return false, nil
	case errors.Is(err, badger.ErrConflict):
		return true, err
	case errors.Is(err, badger.ErrTxnTooBig):
		return false, fmt.Errorf("badgerkv: commit: %w", meta.ErrTooBig)
	default:
		return false, fmt.Errorf("badgerkv: commit: %w", err)
	}
}
