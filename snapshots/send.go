package snapshots

import (
	"context"
	"fmt"
	"io"

	"github.com/cairn-storage/cairn/chunks"
)

// Send writes the snapshot snap (VOLUME@NAME) to w as a stream (see
// stream.go). With base (another snapshot, "" for none) the stream is
// incremental: it leaves out every object reachable from base, which the
// receiver must therefore have.
func (m *Manager) Send(ctx context.Context, snap, base string, w io.Writer) (StreamStats, error) {
	p, err := m.plan(ctx, snap, base)
	if err != nil {
		return StreamStats{}, err
	}
	sw := newStreamWriter(w)
	if err := sw.header(p.header()); err != nil {
		return sw.stats, fmt.Errorf("send %s: %w", snap, err)
	}
	err = p.objects(ctx, true, func(kind byte, id chunks.ID, data []byte) error {
		return sw.object(kind, id, data)
	})
	if err == nil {
		err = sw.trailer()
	}
	if err != nil {
		return sw.stats, fmt.Errorf("send %s: %w", snap, err)
	}
	return sw.stats, nil
}

// sendPlan is what to send of a snapshot.
type sendPlan struct {
	m    *Manager
	snap Snapshot
	base *Snapshot
	// inBase marks everything reachable from base.
	inBase *marks
}

func (m *Manager) plan(ctx context.Context, snap, base string) (*sendPlan, error) {
	s, err := m.Get(ctx, snap)
	if err != nil {
		return nil, err
	}
	p := &sendPlan{m: m, snap: s, inBase: newMarks()}
	if base == "" {
		return p, nil
	}
	b, err := m.Get(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	if b.VolumeID == s.VolumeID && b.Name == s.Name {
		return nil, fmt.Errorf("send %s: it is its own base: %w", snap, ErrInvalid)
	}
	p.base = &b
	w := &walker{get: m.store, marks: p.inBase, par: m.opts.Parallel}
	if err := w.walk(ctx, b.Root.Node); err != nil {
		return nil, fmt.Errorf("base %s: %w", b.Ref(), err)
	}
	return p, nil
}

func (p *sendPlan) header() streamHeader {
	h := streamHeader{Snapshot: p.snap}
	h.Snapshot.Hooks = nil
	if p.base != nil {
		h.Base = &baseRef{Volume: p.base.Volume, Name: p.base.Name, Root: p.base.Root.Node.String()}
	}
	return h
}

// objects calls fn for every object reachable from the snapshot and not
// from the base, once each, in post-order. Data chunks are read only if
// withData is set (otherwise fn gets nil data for them).
func (p *sendPlan) objects(ctx context.Context, withData bool, fn func(kind byte, id chunks.ID, data []byte) error) error {
	sent := newMarks()
	var visit func(id chunks.ID) error
	visit = func(id chunks.ID) error {
		if id.IsZero() || p.inBase.has(id, markTree) || !sent.claim(id, markTree) {
			return nil
		}
		raw, err := p.m.store.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("tree node %s: %w", id, err)
		}
		n, err := decodeNode(id, raw)
		if err != nil {
			return err
		}
		for _, e := range n.Extents {
			c := e.Chunk
			if p.inBase.has(c, markData|markTree) || sent.has(c, markData|markTree) || !sent.claim(c, markData) {
				continue
			}
			var data []byte
			if withData {
				if data, err = p.m.store.Get(ctx, c); err != nil {
					return fmt.Errorf("data chunk %s: %w", c, err)
				}
			}
			if err := fn(kindData, c, data); err != nil {
				return err
			}
		}
		for _, e := range n.Entries {
			if err := visit(e.Node); err != nil {
				return err
			}
		}
		if p.inBase.has(id, markData) {
			return nil // the receiver has these bytes, as file data of the base
		}
		return fn(kindTree, id, raw)
	}
	return visit(p.snap.Root.Node)
}
