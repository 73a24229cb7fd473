package fs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/cairn-storage/cairn/fs/meta"
	"github.com/cairn-storage/cairn/fs/tree"
)

// A snapshot is browsed as a hidden, read-only volume whose root is the
// snapshot's tree: like a clone, it copies directories into the KV only
// as they are visited, and frontends serve it like any other volume (its
// own volume ID keeps NFS handles and inode numbers apart). Hidden
// volumes are named VOLUME@SNAPSHOT, a name no user volume can have.

func hiddenNameKey(name string) []byte { return append([]byte("h"), name...) }

// TreeVolumeName is the name of the hidden volume showing snapshot snap
// of volume vol.
func TreeVolumeName(vol, snap string) string { return vol + "@" + snap }

// OpenTreeVolume opens the read-only view named name (see TreeVolumeName)
// of a tree, creating it on first use. Pair it with Volume.Close.
func (f *FS) OpenTreeVolume(ctx context.Context, name string, root tree.Root, maxIno Ino) (*Volume, error) {
	vol, _, ok := strings.Cut(name, "@")
	if !ok || CheckVolumeName(vol) != nil {
		return nil, fmt.Errorf("snapshot view name %q: want VOLUME@SNAPSHOT: %w", name, syscall.EINVAL)
	}
	var info VolumeInfo
	err := f.kv.Update(ctx, func(tx meta.Txn) error {
		b, err := tx.Get(hiddenNameKey(name))
		if err == nil && len(b) == 8 {
			info, err = getVolumeByID(tx, be64ToU(b))
			return err
		}
		if err != nil && !errors.Is(err, meta.ErrNotFound) {
			return err
		}
		info = VolumeInfo{Name: name, Created: f.opts.Now().UTC(), Hidden: true}
		if info.ID, err = f.installTree(tx, info, root, maxIno); err != nil {
			return err
		}
		return tx.Set(hiddenNameKey(name), be64(nil, info.ID))
	})
	if err != nil {
		return nil, err
	}
	return f.openVolume(ctx, info)
}

// DeleteTreeVolume removes the view named name, if there is one.
func (f *FS) DeleteTreeVolume(ctx context.Context, name string) error {
	if err := f.forget(name); err != nil {
		return err
	}
	var info VolumeInfo
	found := false
	err := f.kv.Update(ctx, func(tx meta.Txn) error {
		b, err := tx.Get(hiddenNameKey(name))
		if errors.Is(err, meta.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if info, err = getVolumeByID(tx, be64ToU(b)); err != nil {
			return err
		}
		found = true
		info.Deleting = true
		if err := putVolumeRecord(tx, info); err != nil {
			return err
		}
		return tx.Delete(hiddenNameKey(name))
	})
	if err != nil || !found {
		return err
	}
	return f.finishDelete(ctx, info)
}
