package meta

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff sleeps before retry number attempt (1-based) of a transaction
// that conflicted: a random time below min(base<<attempt, ceiling), so
// that retrying writers spread out. It returns early with ctx's error.
func Backoff(ctx context.Context, attempt int, base, ceiling time.Duration) error {
	limit := min(base<<min(attempt, 16), ceiling)
	t := time.NewTimer(rand.N(limit))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
