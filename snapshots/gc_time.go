package snapshots

import (
	"context"
	"errors"
	"time"

	"github.com/cairn-storage/cairn/chunks"
)

// storedAt is when a chunk was last stored, as the store's Stat tells
// (a Put of a chunk already there renews it). A chunk the store does not
// know, or whose time it does not keep, counts as stored now: it is never
// swept by mistake.
func (m *Manager) storedAt(ctx context.Context, id chunks.ID) (time.Time, error) {
	info, err := m.store.Stat(ctx, id)
	if errors.Is(err, chunks.ErrNotFound) || (err == nil && info.ModTime.IsZero()) {
		return time.Now(), nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return info.ModTime, nil
}
