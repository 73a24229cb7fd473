package fs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/cairn-storage/cairn/fs/meta"
	"github.com/cairn-storage/cairn/fs/tree"
)

// TreeCut is one volume's tree as cut by Snapshot.
type TreeCut struct {
	Volume VolumeInfo
	Root   tree.Root
	// MaxIno is the highest inode number in use at the cut; a clone
	// allocates after it.
	MaxIno Ino
	// Usage is what the volume held at the cut (also in Root).
	Usage Usage
}

// SnapshotOptions tune Snapshot.
type SnapshotOptions struct {
	// Freeze, if set, runs while this process holds the volumes' writes,
	// after flushing its own buffers: the hook through which a cluster
	// flushes and holds the writes of the volumes' other clients. The cut
	// is made once it returns, and the thaw it returned is called right
	// after.
	Freeze Freezer
}

// Snapshot cuts every volume of vols at one instant and returns their
// trees. New writes are held while buffered writes are flushed and the
// consistent read view is opened; then they go on while the trees are
// built from the view, reusing the cached nodes of everything unchanged
// since the previous snapshot.
func (f *FS) Snapshot(ctx context.Context, vols []*Volume, opts SnapshotOptions) ([]TreeCut, error) {
	vols = append([]*Volume(nil), vols...)
	sort.Slice(vols, func(i, j int) bool { return vols[i].Info().ID < vols[j].Info().ID })
	for i := 1; i < len(vols); i++ {
		if vols[i] == vols[i-1] {
			return nil, fmt.Errorf("snapshot: volume %q named twice", vols[i].Info().Name)
		}
	}
	var (
		locked []*Volume
		thaw   = func() {}
		once   sync.Once
	)
	release := func() {
		once.Do(func() {
			for _, v := range locked {
				v.gate.Unlock()
			}
			thaw()
		})
	}
	defer release()
	for _, v := range vols {
		if err := v.lockGate(ctx); err != nil {
			return nil, fmt.Errorf("snapshot: hold the writes of volume %q: %w", v.Info().Name, err)
		}
		locked = append(locked, v)
	}
	cutEpochs, thawOthers, err := f.prepareCut(ctx, vols, opts)
	if err != nil {
		return nil, err
	}
	thaw = thawOthers
	cuts := make([]TreeCut, len(vols))
	caches := make([][]cacheEntry, len(vols))
	err = f.kv.View(ctx, func(r meta.Reader) error {
		release() // the view is open: the cut is made
		for i, v := range vols {
			b := &builder{ctx: ctx, fs: f, r: reader{r: r, ks: v.ks}}
			var err error
			if cuts[i], err = b.cut(v); err != nil {
				return fmt.Errorf("snapshot of volume %q: %w", v.Info().Name, err)
			}
			caches[i] = b.cache
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := f.store.Sync(ctx); err != nil {
		return nil, fmt.Errorf("snapshot: sync tree nodes: %w", err)
	}
	for i, v := range vols {
		if err := v.saveCache(ctx, caches[i], cutEpochs[i]); err != nil {
			return nil, err
		}
	}
	return cuts, nil
}

// prepareCut flushes the volumes (their gates held), has opts.Freeze
// flush and hold the other clients, and moves the volumes to the next
// epoch. It returns the epoch of the cut for each, and how to thaw the
// other clients.
func (f *FS) prepareCut(ctx context.Context, vols []*Volume, opts SnapshotOptions) ([]uint64, func(), error) {
	for _, v := range vols {
		if err := v.flushAll(ctx); err != nil {
			return nil, nil, fmt.Errorf("snapshot: flush volume %q: %w", v.Info().Name, err)
		}
	}
	thaw := func() {}
	if opts.Freeze != nil {
		ids := make([]uint64, len(vols))
		for i, v := range vols {
			ids[i] = v.Info().ID
		}
		var err error
		if thaw, err = opts.Freeze(ctx, ids); err != nil {
			return nil, nil, fmt.Errorf("snapshot: flush the volumes' other clients: %w", err)
		}
	}
	epochs := make([]uint64, len(vols))
	err := f.kv.Update(ctx, func(tx meta.Txn) error {
		for i, v := range vols {
			e, err := loadEpoch(tx, v.ks)
			if err != nil {
				return err
			}
			epochs[i] = e
			if err := tx.Set(v.ks.epoch(), be64(nil, e+1)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		thaw()
		return nil, nil, err
	}
	return epochs, thaw, nil
}

// cacheEntry is a node built for an inode, to remember as its cache.
type cacheEntry struct {
	ino Ino
	id  [32]byte
}

// saveBatch bounds the inodes updated per transaction when saving caches.
const saveBatch = 1000

// saveCache records the nodes just built as the inodes' cached nodes,
// except for inodes changed since the cut.
func (v *Volume) saveCache(ctx context.Context, cache []cacheEntry, cutEpoch uint64) error {
	defer v.hold()()
	for len(cache) > 0 {
		batch := cache[:min(saveBatch, len(cache))]
		cache = cache[len(batch):]
		err := v.update(ctx, func(t *txn) error {
			for _, c := range batch {
				n, err := t.get(c.ino)
				if errors.Is(err, errNoInode) {
					continue
				} else if err != nil {
					return err
				}
				if n.DirtyEpoch > cutEpoch || !n.Lazy.IsZero() {
					continue
				}
				n.Cached = c.id
				if err := t.putRaw(n); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("save tree caches of volume %q: %w", v.Info().Name, err)
		}
	}
	return nil
}

// maxIno reads the highest inode number ever handed out.
func (r reader) maxIno() (Ino, error) {
	b, err := r.r.Get(r.ks.nextIno())
	if err != nil {
		return 0, fmt.Errorf("inode counter: %w", err)
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("inode counter of %d bytes: %w", len(b), errNoInode)
	}
	return Ino(binary.BigEndian.Uint64(b) - 1), nil
}
