package snapshots

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fs/tree"
)

// ReceiveOptions tune Receive.
type ReceiveOptions struct {
	// Volume receives the snapshot as one of this volume instead of the
	// volume named in the stream.
	Volume string
}

// Received describes a received snapshot.
type Received struct {
	Snapshot Snapshot    `json:"snapshot"`
	Stats    StreamStats `json:"stats"`
	// VolumeCreated is set when the volume did not exist: it was created
	// from the snapshot (O(1), like a clone) with the sender's configuration.
	VolumeCreated bool `json:"volume_created"`
}

// Receive reads a stream written by Send and stores the snapshot. Each
// object is verified against its ID as it arrives and stored; the
// snapshot record is written only once the trailer's checksum verified
// and every object the tree references is stored, so a truncated or
// corrupt stream leaves no record (its objects are garbage, collected
// after the grace period). An incremental stream needs its base snapshot
// here. If the volume does not exist it is created from the snapshot;
// an existing volume is left as it is (Restore rolls it to the snapshot).
func (m *Manager) Receive(ctx context.Context, r io.Reader, opts ReceiveOptions) (Received, error) {
	rc := m.newReceiver(opts)
	defer rc.release()
	sr := newStreamReader(r)
	hdr, err := sr.header()
	if err != nil {
		return Received{}, fmt.Errorf("receive: %w", err)
	}
	if err := rc.prepare(ctx, hdr); err != nil {
		return Received{}, fmt.Errorf("receive: %w", err)
	}
	if err := rc.objects(ctx, sr); err != nil {
		return Received{}, fmt.Errorf("receive %s: %w", hdr.Snapshot.Ref(), err)
	}
	if err := sr.end(); err != nil {
		return Received{}, fmt.Errorf("receive %s: %w", hdr.Snapshot.Ref(), err)
	}
	return rc.finish(ctx, sr.stats)
}

// receiver is one receive in progress.
type receiver struct {
	m      *Manager
	opts   ReceiveOptions
	hdr    streamHeader
	target string              // volume name
	vol    *fs.VolumeInfo      // the target volume, nil if it does not exist
	got    map[chunks.ID]uint8 // received objects, as what (mark bits)
	refs   map[chunks.ID]uint8 // objects referenced by received nodes, as what
	order  []chunks.ID         // refs in the order first seen
	pinned []chunks.ID
}

func (m *Manager) newReceiver(opts ReceiveOptions) *receiver {
	return &receiver{m: m, opts: opts, got: map[chunks.ID]uint8{}, refs: map[chunks.ID]uint8{}}
}

// pin pins id for the rest of the receive.
func (rc *receiver) pin(id chunks.ID) {
	rc.m.pin(id)
	rc.pinned = append(rc.pinned, id)
}

func (rc *receiver) release() { rc.m.unpin(rc.pinned...) }

// prepare checks, before any data, that the stream can be received here.
func (rc *receiver) prepare(ctx context.Context, hdr streamHeader) error {
	rc.hdr = hdr
	rc.target = hdr.Snapshot.Volume
	if rc.opts.Volume != "" {
		rc.target = rc.opts.Volume
	}
	if err := fs.CheckVolumeName(rc.target); err != nil {
		return err
	}
	info, err := rc.m.fs.VolumeInfo(ctx, rc.target)
	switch {
	case err == nil:
		rc.vol = &info
		if ok, err := rc.m.exists(ctx, info.ID, hdr.Snapshot.Name); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("snapshot %s@%s: %w", rc.target, hdr.Snapshot.Name, ErrExists)
		}
	case !errors.Is(err, fs.ErrNoVolume):
		return err
	}
	b := hdr.Base
	if b == nil {
		return nil
	}
	ref := rc.target + "@" + b.Name
	if rc.vol == nil {
		return fmt.Errorf("incremental stream on %s@%s, but volume %s does not exist here: receive a full stream first", b.Volume, b.Name, rc.target)
	}
	base, err := rc.m.getByID(ctx, rc.vol.ID, b.Name)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("incremental stream on %s@%s, but %s does not exist here: receive it first (or send a full stream)", b.Volume, b.Name, ref)
	} else if err != nil {
		return err
	}
	if base.Root.Node.String() != b.Root {
		return fmt.Errorf("incremental stream on %s@%s (tree %.16s), but %s here is a different tree (%.16s)", b.Volume, b.Name, b.Root, ref, base.Root.Node)
	}
	return nil
}

// objects stores the stream's objects up to its verified trailer.
func (rc *receiver) objects(ctx context.Context, sr *streamReader) error {
	compress := rc.hdr.Snapshot.Config.Compress
	for {
		obj, ok, err := sr.next()
		if err != nil || !ok {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if obj.kind == kindTree {
			n, err := tree.Decode(obj.data)
			if err != nil {
				return bad("object %s: %v", obj.id, err)
			}
			for _, e := range n.Extents {
				rc.ref(e.Chunk, markData)
			}
			for _, e := range n.Entries {
				if !e.Node.IsZero() {
					rc.ref(e.Node, markTree)
				}
			}
		}
		if _, dup := rc.got[obj.id]; !dup {
			rc.pin(obj.id)
		}
		bit := markData
		if obj.kind == kindTree {
			bit = markTree
		}
		rc.got[obj.id] |= bit
		opts := chunks.PutOptions{Compress: compress && obj.kind == kindData}
		if err := rc.m.store.Put(ctx, obj.id, obj.data, opts); err != nil {
			return fmt.Errorf("store object %s: %w", obj.id, err)
		}
	}
}

// ref notes that a received node refers to id as what bit says.
func (rc *receiver) ref(id chunks.ID, bit uint8) {
	if _, ok := rc.refs[id]; !ok {
		rc.order = append(rc.order, id)
	}
	rc.refs[id] |= bit
}

// complete checks that every object the tree needs is stored: what was
// received, and what a received node refers to and was left out (base
// objects, or those push found here). A node left out is trusted to
// have its subtree here.
func (rc *receiver) complete(ctx context.Context) error {
	rc.ref(rc.hdr.Snapshot.Root.Node, markTree)
	for _, id := range rc.order {
		as := rc.refs[id]
		got, ok := rc.got[id]
		switch {
		case ok && as&markTree != 0 && got&markTree == 0:
			return bad("object %s is used as a tree node but was sent as data", id)
		case ok:
			continue
		}
		rc.pin(id)
		if _, err := rc.m.store.Stat(ctx, id); errors.Is(err, chunks.ErrNotFound) {
			return bad("object %s is neither in the stream nor here (is the base snapshot complete?)", id)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// finish checks completeness and writes the record (creating the volume
// if needed).
func (rc *receiver) finish(ctx context.Context, stats StreamStats) (Received, error) {
	ref := rc.target + "@" + rc.hdr.Snapshot.Name
	if err := rc.complete(ctx); err != nil {
		return Received{}, fmt.Errorf("receive %s: %w", ref, err)
	}
	m := rc.m
	m.refMu.RLock()
	defer m.refMu.RUnlock()
	if err := m.store.Sync(ctx); err != nil {
		return Received{}, fmt.Errorf("receive %s: %w", ref, err)
	}
	s := rc.hdr.Snapshot
	res := Received{Stats: stats}
	if rc.vol == nil {
		info, err := m.fs.CreateVolumeFromTree(ctx, rc.target, cloneConfig(s.Config), s.Root, s.MaxIno)
		if err != nil {
			return Received{}, fmt.Errorf("receive %s: create the volume: %w", ref, err)
		}
		rc.vol, res.VolumeCreated = &info, true
	}
	now := m.now()
	s.Volume, s.VolumeID, s.Received = rc.target, rc.vol.ID, &now
	if err := m.putRecords(ctx, []Snapshot{s}); err != nil {
		return Received{}, fmt.Errorf("receive %s: %w", ref, err)
	}
	res.Snapshot = s
	m.log.Info("snapshot received", "snapshot", s.Ref(), "objects", stats.Objects,
		"bytes", stats.StreamBytes, "volume_created", res.VolumeCreated)
	return res, nil
}
