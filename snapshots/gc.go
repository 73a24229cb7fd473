package snapshots

import (
	"context"
	"fmt"
	"time"

	"github.com/cairn-storage/cairn/chunks"
)

// DefaultGrace is the age under which GC never sweeps a chunk.
const DefaultGrace = time.Hour

// GCOptions tune GC.
type GCOptions struct {
	// Grace: chunks stored less than Grace before the collection started
	// are kept, so a writer that stored a chunk and has not yet committed
	// the reference to it never loses it. Zero means DefaultGrace; a
	// negative value disables the check (only safe with no writers).
	Grace time.Duration
	// DryRun reports what would be swept without deleting anything.
	DryRun bool
	// ChunkTime returns when a chunk was stored (or last stored again).
	// If nil, the store's ModTime method is used if it has one; see
	// LocalChunkTimes for the local store.
	ChunkTime func(ctx context.Context, id chunks.ID) (time.Time, error)
	// Progress, if set, is called as the collection advances.
	Progress func(GCProgress)
}

// GCProgress tells how far a collection is. Total is 0 when unknown.
type GCProgress struct {
	Phase       string // "mark", "scan" or "sweep"
	Done, Total int64
}

// GCReport summarizes a collection.
type GCReport struct {
	Snapshots   int           `json:"snapshots"`    // snapshot roots marked from
	Marked      int           `json:"marked"`       // chunks found reachable
	Scanned     int64         `json:"scanned"`      // chunks in the store
	Young       int64         `json:"young"`        // unreachable but within the grace period
	Pinned      int64         `json:"pinned"`       // unreachable but held by a receive in progress
	Swept       int64         `json:"swept"`        // chunks deleted (or, dry run, to delete)
	SweptBytes  int64         `json:"swept_bytes"`  // their plaintext size
	SweptStored int64         `json:"swept_stored"` // their size on disk
	DryRun      bool          `json:"dry_run,omitempty"`
	Duration    time.Duration `json:"duration_ns"`
}

// chunkCounter is implemented by stores that count their chunks.
type chunkCounter interface {
	Stats(ctx context.Context) (chunks.Stats, error)
}

// GC deletes the chunks that no snapshot, live volume or receive in
// progress references, except those younger than the grace period.
//
// It marks from every snapshot record, then from the live volumes
// (fs.LiveRoots), then from the records again (a snapshot taken meanwhile
// may hold chunks the volumes dropped), and lists the unmarked chunks.
// Then, holding off new references (create, restore, clone, receive)
// only for that phase, it marks again from what changed and sweeps the
// candidates that are still unmarked, not pinned and old enough. Marking
// fails closed: an unreadable tree node aborts the collection.
func (m *Manager) GC(ctx context.Context, opts GCOptions) (GCReport, error) {
	start := time.Now() // wall clock, as chunk times are
	rep := GCReport{DryRun: opts.DryRun}
	grace := opts.Grace
	if grace == 0 {
		grace = DefaultGrace
	}
	chunkTime := opts.ChunkTime
	if chunkTime == nil {
		chunkTime = m.storedAt
	}
	progress := func(phase string, done, total int64) {
		if opts.Progress != nil {
			opts.Progress(GCProgress{Phase: phase, Done: done, Total: total})
		}
	}
	mk := newMarks()
	w := &walker{get: m.store, marks: mk, par: m.opts.Parallel}
	if err := m.markAll(ctx, w, &rep, progress); err != nil {
		return rep, err
	}
	cands, err := m.candidates(ctx, mk, &rep, progress)
	if err != nil {
		return rep, err
	}

	m.refMu.Lock()
	defer m.refMu.Unlock()
	if err := m.markAll(ctx, w, &rep, func(string, int64, int64) {}); err != nil {
		return rep, err
	}
	rep.Marked = mk.len()
	cutoff := start.Add(-grace)
	for i, c := range cands {
		progress("sweep", int64(i), int64(len(cands)))
		if mk.has(c.ID, markData|markTree) {
			continue
		}
		if grace > 0 {
			t, err := chunkTime(ctx, c.ID)
			if err != nil {
				return rep, fmt.Errorf("gc: age of chunk %s: %w", c.ID, err)
			}
			if t.After(cutoff) {
				rep.Young++
				continue
			}
		}
		swept, err := m.sweep(ctx, c.ID, opts.DryRun)
		if err != nil {
			return rep, err
		}
		if !swept {
			rep.Pinned++
			continue
		}
		rep.Swept++
		rep.SweptBytes += c.Size
		rep.SweptStored += c.Stored
	}
	progress("sweep", int64(len(cands)), int64(len(cands)))
	if !opts.DryRun && rep.Swept > 0 {
		if err := m.store.Sync(ctx); err != nil {
			return rep, fmt.Errorf("gc: %w", err)
		}
	}
	rep.Duration = time.Since(start)
	m.log.Info("gc done", "swept", rep.Swept, "bytes", rep.SweptBytes, "young", rep.Young,
		"marked", rep.Marked, "scanned", rep.Scanned, "dry_run", opts.DryRun, "duration", rep.Duration)
	return rep, nil
}

// markAll marks from the records, the live volumes, and the records again.
func (m *Manager) markAll(ctx context.Context, w *walker, rep *GCReport, progress func(string, int64, int64)) error {
	if err := m.markRecords(ctx, w, rep, progress); err != nil {
		return err
	}
	if err := m.markLive(ctx, w); err != nil {
		return fmt.Errorf("gc: %w", err)
	}
	if err := m.markRecords(ctx, w, rep, func(string, int64, int64) {}); err != nil {
		return err
	}
	m.pinMu.Lock()
	for id := range m.pins {
		w.marks.claim(id, markData)
	}
	m.pinMu.Unlock()
	return nil
}

func (m *Manager) markRecords(ctx context.Context, w *walker, rep *GCReport, progress func(string, int64, int64)) error {
	all, err := m.List(ctx, "")
	if err != nil {
		return fmt.Errorf("gc: %w", err)
	}
	for i, s := range all {
		progress("mark", int64(i), int64(len(all)))
		if err := w.walk(ctx, s.Root.Node); err != nil {
			return fmt.Errorf("gc: marking snapshot %s (delete it if it is damaged): %w", s.Ref(), err)
		}
	}
	rep.Snapshots = max(rep.Snapshots, len(all))
	progress("mark", int64(len(all)), int64(len(all)))
	return nil
}

// candidates lists the stored chunks that are not marked.
func (m *Manager) candidates(ctx context.Context, mk *marks, rep *GCReport, progress func(string, int64, int64)) ([]chunks.Info, error) {
	var total int64
	if c, ok := m.store.(chunkCounter); ok {
		if st, err := c.Stats(ctx); err == nil {
			total = st.Chunks
		}
	}
	var cands []chunks.Info
	err := m.store.Walk(ctx, func(info chunks.Info) error {
		rep.Scanned++
		if rep.Scanned%4096 == 0 {
			progress("scan", rep.Scanned, max(total, rep.Scanned))
		}
		if !mk.has(info.ID, markData|markTree) {
			cands = append(cands, info)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gc: listing chunks: %w", err)
	}
	progress("scan", rep.Scanned, rep.Scanned)
	return cands, nil
}

// sweep deletes chunk id unless a receive pinned it; the check and the
// deletion are atomic with respect to pin.
func (m *Manager) sweep(ctx context.Context, id chunks.ID, dryRun bool) (bool, error) {
	m.pinMu.Lock()
	defer m.pinMu.Unlock()
	if m.pins[id] > 0 {
		return false, nil
	}
	if dryRun {
		return true, nil
	}
	if err := m.store.Delete(ctx, id); err != nil {
		return false, fmt.Errorf("gc: %w", err)
	}
	return true, nil
}

// pin keeps ids from being swept until unpin. A receive pins an object
// before checking that it is stored or storing it: a GC then either
// swept it before (and the check sees it missing) or sees the pin.
func (m *Manager) pin(ids ...chunks.ID) {
	m.pinMu.Lock()
	for _, id := range ids {
		m.pins[id]++
	}
	m.pinMu.Unlock()
}

func (m *Manager) unpin(ids ...chunks.ID) {
	m.pinMu.Lock()
	for _, id := range ids {
		if m.pins[id]--; m.pins[id] <= 0 {
			delete(m.pins, id)
		}
	}
	m.pinMu.Unlock()
}
