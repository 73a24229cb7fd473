package control

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fusefs"
	"github.com/cairn-storage/cairn/nfsgw"
	"github.com/cairn-storage/cairn/snapshots"
)

// SnapshotViews opens snapshots as read-only views: the one source of the
// .snapshots directories of FUSE mounts and NFS exports.
type SnapshotViews struct {
	fs *fs.FS
	m  *snapshots.Manager
}

var _ nfsgw.Snapshots = SnapshotViews{}

// NewSnapshotViews returns the views of m's snapshots over fsys.
func NewSnapshotViews(fsys *fs.FS, m *snapshots.Manager) SnapshotViews {
	return SnapshotViews{fs: fsys, m: m}
}

// List returns the snapshots of volume.
func (s SnapshotViews) List(ctx context.Context, volume string) ([]nfsgw.SnapshotRef, error) {
	all, err := s.m.List(ctx, volume)
	if err != nil {
		return nil, err
	}
	refs := make([]nfsgw.SnapshotRef, 0, len(all))
	for _, snap := range all {
		refs = append(refs, nfsgw.SnapshotRef{Name: snap.Name, Created: snap.Created})
	}
	return refs, nil
}

// Open opens the read-only view of snapshot name of volume.
func (s SnapshotViews) Open(ctx context.Context, volume, name string) (*fs.Volume, error) {
	return s.OpenRef(ctx, volume+"@"+name)
}

// OpenRef opens the read-only view of snapshot VOLUME@NAME; a missing or
// malformed one is ENOENT, as a lookup in .snapshots wants.
func (s SnapshotViews) OpenRef(ctx context.Context, ref string) (*fs.Volume, error) {
	snap, err := s.m.Get(ctx, ref)
	if errors.Is(err, snapshots.ErrNotFound) || errors.Is(err, snapshots.ErrInvalid) {
		return nil, fmt.Errorf("%w: %w", err, syscall.ENOENT)
	} else if err != nil {
		return nil, err
	}
	return s.fs.OpenTreeVolume(ctx, fs.TreeVolumeName(snap.Volume, snap.Name), snap.Root, snap.MaxIno)
}

// Volume returns the views of one volume's snapshots, for its FUSE mount.
func (s SnapshotViews) Volume(volume string) fusefs.Snapshots {
	return volumeViews{views: s, volume: volume}
}

// volumeViews is one volume's snapshots.
type volumeViews struct {
	views  SnapshotViews
	volume string
}

// List returns the volume's snapshots.
func (v volumeViews) List(ctx context.Context) ([]fusefs.SnapshotRef, error) {
	refs, err := v.views.List(ctx, v.volume)
	out := make([]fusefs.SnapshotRef, 0, len(refs))
	for _, r := range refs {
		out = append(out, fusefs.SnapshotRef{Name: r.Name, Created: r.Created})
	}
	return out, err
}

// Open opens the read-only view of snapshot name.
func (v volumeViews) Open(ctx context.Context, name string) (*fs.Volume, error) {
	return v.views.Open(ctx, v.volume, name)
}
