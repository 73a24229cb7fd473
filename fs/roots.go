package fs

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs/meta"
)

// LiveRoots calls fn for every chunk that live volumes reference: the
// data chunks of extents (isTree false), and the tree nodes that lazily
// copied or cached inodes refer to (isTree true: all that is reachable
// from them is live too). Garbage collection marks from these and from
// the snapshots.
func (f *FS) LiveRoots(ctx context.Context, fn func(id chunks.ID, isTree bool) error) error {
	vols, err := f.ListVolumes(ctx)
	if err != nil {
		return err
	}
	for _, info := range vols {
		ks := newKeyspace(info.ID)
		err := f.kv.View(ctx, func(r meta.Reader) error {
			prefix := ks.key(tagInode, 0)
			err := r.Scan(prefix, scanEnd(prefix), func(_, val []byte) error {
				n, err := decodeInode(val)
				if err != nil {
					return err
				}
				for _, id := range []chunks.ID{n.Lazy, n.Cached} {
					if !id.IsZero() {
						if err := fn(id, true); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			prefix = ks.key(tagExtent, 0)
			return r.Scan(prefix, scanEnd(prefix), func(k, val []byte) error {
				e, err := decodeExtent(binary.BigEndian.Uint64(k[len(k)-8:]), val)
				if err != nil {
					return err
				}
				return fn(e.Chunk, false)
			})
		})
		if err != nil {
			return fmt.Errorf("live roots of volume %q: %w", info.Name, err)
		}
	}
	return nil
}
