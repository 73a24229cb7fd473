package fs

import (
	"context"
	"fmt"
	"syscall"

	"github.com/cairn-storage/cairn/fs/meta"
	"github.com/cairn-storage/cairn/fs/tree"
)

// CreateVolumeFromTree creates volume name with the content of a tree, in
// constant time: the root refers to the tree, and directories and files
// are copied into the KV when first used (copy-on-write); data chunks are
// shared, never copied. A tree with hard links is copied eagerly instead,
// since a file changed through one name must not leave a stale copy under
// another name's untouched directory.
func (f *FS) CreateVolumeFromTree(ctx context.Context, name string, cfg VolumeConfig, root tree.Root, maxIno Ino) (VolumeInfo, error) {
	if err := CheckVolumeName(name); err != nil {
		return VolumeInfo{}, err
	}
	info := VolumeInfo{Name: name, Created: f.opts.Now().UTC(), VolumeConfig: cfg}
	err := f.kv.Update(ctx, func(tx meta.Txn) error {
		if err := nameFree(tx, name); err != nil {
			return err
		}
		var err error
		info.ID, err = f.installTree(tx, info, root, maxIno)
		if err != nil {
			return err
		}
		return tx.Set(volumeNameKey(name), be64(nil, info.ID))
	})
	if err != nil {
		return VolumeInfo{}, err
	}
	if root.Links {
		if err := f.materializeAll(ctx, name); err != nil {
			return VolumeInfo{}, err
		}
	}
	f.log.Info("volume created from tree", "volume", name, "id", info.ID, "tree", root.Node.String())
	return info, nil
}

// installTree writes a new volume ID whose root is the tree's.
func (f *FS) installTree(tx meta.Txn, info VolumeInfo, root tree.Root, maxIno Ino) (uint64, error) {
	if root.Attr.Ino != uint64(RootIno) || root.Attr.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return 0, fmt.Errorf("tree root is inode %d of mode %#o, not a root directory: %w", root.Attr.Ino, root.Attr.Mode, syscall.EINVAL)
	}
	id, err := nextCounter(tx, keyNextVolume)
	if err != nil {
		return 0, err
	}
	info.ID = id
	if err := putVolumeRecord(tx, info); err != nil {
		return 0, err
	}
	ks := newKeyspace(id)
	n := inodeFromTree(root.Attr, "", root.Node, RootIno)
	if err := tx.Set(ks.inode(RootIno), n.encode()); err != nil {
		return 0, err
	}
	if err := tx.Set(ks.nextIno(), be64(nil, uint64(max(maxIno, RootIno))+1)); err != nil {
		return 0, err
	}
	return id, putUsage(tx, ks, Usage{Bytes: root.Bytes, Inodes: root.Inodes})
}

// RestoreVolume rolls volume name back to a tree in constant time: the
// name moves to a new volume ID holding the tree, and the old content is
// deleted in the background. A volume in use (mounted) is busy.
func (f *FS) RestoreVolume(ctx context.Context, name string, root tree.Root, maxIno Ino) (VolumeInfo, error) {
	if err := f.forget(name); err != nil {
		return VolumeInfo{}, fmt.Errorf("restore: %w", err)
	}
	var old, info VolumeInfo
	err := f.kv.Update(ctx, func(tx meta.Txn) error {
		var err error
		if old, err = getVolumeByName(tx, name); err != nil {
			return err
		}
		info = old
		if info.ID, err = f.installTree(tx, info, root, maxIno); err != nil {
			return err
		}
		old.Deleting = true
		if err := putVolumeRecord(tx, old); err != nil {
			return err
		}
		return tx.Set(volumeNameKey(name), be64(nil, info.ID))
	})
	if err != nil {
		return VolumeInfo{}, err
	}
	f.background(func(ctx context.Context) error { return f.finishDelete(ctx, old) })
	if root.Links {
		if err := f.materializeAll(ctx, name); err != nil {
			return VolumeInfo{}, err
		}
	}
	f.log.Info("volume restored", "volume", name, "id", info.ID, "tree", root.Node.String())
	return info, nil
}

// materializeAll copies a whole tree-backed volume into the KV.
func (f *FS) materializeAll(ctx context.Context, name string) error {
	v, err := f.OpenVolume(ctx, name)
	if err != nil {
		return err
	}
	defer v.Close(ctx)
	var walk func(dir Ino) error
	walk = func(dir Ino) error {
		var subdirs, lazy []Ino
		err := v.ReadDirPlus(ctx, nil, dir, 0, func(e DirEntry, a *Attr) bool {
			if a.IsDir() {
				subdirs = append(subdirs, e.Ino)
			} else if a.IsRegular() {
				lazy = append(lazy, e.Ino)
			}
			return true
		}, true)
		if err != nil {
			return err
		}
		for _, ino := range lazy {
			if err := v.materializeFor(ctx, ino); err != nil {
				return err
			}
		}
		for _, d := range subdirs {
			if err := walk(d); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(RootIno)
}

// background runs work that outlives the call that started it; Close
// waits for it.
func (f *FS) background(fn func(ctx context.Context) error) {
	f.bg.Add(1)
	go func() {
		defer f.bg.Done()
		if err := fn(context.Background()); err != nil {
			f.log.Error("background work failed; it resumes at the next start", "err", err)
		}
	}()
}
