package badgerkv

import (
	"errors"
	"log/slog"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// maxGCRounds bounds the value-log files rewritten per GC tick.
const maxGCRounds = 16

// gcLoop reclaims value-log space every interval until stopGC is closed.
// Each tick rewrites value-log files that are at least gcDiscardRatio
// garbage, one at a time, until none qualifies.
func (kv *KV) gcLoop(interval time.Duration, logger *slog.Logger) {
	defer close(kv.gcDone)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-kv.stopGC:
			return
		case <-tick.C:
		}
		for range maxGCRounds {
			err := kv.db.RunValueLogGC(gcDiscardRatio)
			if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
				break
			}
			if err != nil {
				logger.Warn("value log GC failed", "err", err)
				break
			}
			select {
			case <-kv.stopGC:
				return
			default:
			}
		}
	}
}
