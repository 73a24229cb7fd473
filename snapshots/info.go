package snapshots

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/cairn-storage/cairn/chunks"
)

// Details are a snapshot's record and what it costs to keep it.
type Details struct {
	Snapshot
	// UniqueBytes is the plaintext size of the chunks (data and tree
	// nodes) reachable from this snapshot and from no other snapshot nor
	// live volume: what deleting it and collecting garbage frees.
	UniqueBytes int64 `json:"unique_bytes"`
	// UniqueStored is the same on disk (compressed, with framing).
	UniqueStored int64 `json:"unique_stored_bytes"`
	// UniqueChunks counts those chunks.
	UniqueChunks int64 `json:"unique_chunks"`
}

// Info returns the snapshot named by ref and the bytes unique to it. It
// walks every snapshot and live volume, so it costs about as much as
// the marking phase of a garbage collection.
func (m *Manager) Info(ctx context.Context, ref string) (Details, error) {
	s, err := m.Get(ctx, ref)
	if err != nil {
		return Details{}, err
	}
	d := Details{Snapshot: s}
	others := newMarks()
	all, err := m.List(ctx, "")
	if err != nil {
		return d, err
	}
	w := &walker{get: m.store, marks: others, par: m.opts.Parallel}
	for _, o := range all {
		if o.VolumeID == s.VolumeID && o.Name == s.Name {
			continue
		}
		if err := w.walk(ctx, o.Root.Node); err != nil {
			return d, fmt.Errorf("snapshot %s: %w", o.Ref(), err)
		}
	}
	if err := m.markLive(ctx, w); err != nil {
		return d, err
	}
	var bytes, stored, count atomic.Int64
	counted := newMarks()
	mine := &walker{get: m.store, marks: newMarks(), par: m.opts.Parallel,
		skip: func(id chunks.ID, bit uint8) bool {
			if bit == markTree {
				return others.has(id, markTree)
			}
			return others.has(id, markData|markTree)
		},
		found: func(ctx context.Context, id chunks.ID, bit uint8) error {
			// Kept anyway if live or in another snapshot in any role
			// (file bytes may equal a node's encoding); counted once.
			if others.has(id, markData|markTree) || !counted.claim(id, markData) {
				return nil
			}
			info, err := m.store.Stat(ctx, id)
			if err != nil {
				return fmt.Errorf("snapshot %s: chunk %s: %w", s.Ref(), id, err)
			}
			bytes.Add(info.Size)
			stored.Add(info.Stored)
			count.Add(1)
			return nil
		}}
	if err := mine.walk(ctx, s.Root.Node); err != nil {
		return d, fmt.Errorf("snapshot %s: %w", s.Ref(), err)
	}
	d.UniqueBytes, d.UniqueStored, d.UniqueChunks = bytes.Load(), stored.Load(), count.Load()
	return d, nil
}

// markLive marks what the live volumes reference with w.
func (m *Manager) markLive(ctx context.Context, w *walker) error {
	var trees []chunks.ID
	err := m.fs.LiveRoots(ctx, func(id chunks.ID, isTree bool) error {
		if isTree {
			trees = append(trees, id)
			return nil
		}
		return w.data(ctx, id)
	})
	if err != nil {
		return fmt.Errorf("live volumes: %w", err)
	}
	if err := w.walk(ctx, trees...); err != nil {
		return fmt.Errorf("live volumes: %w", err)
	}
	return nil
}
