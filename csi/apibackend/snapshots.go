package apibackend

import (
	"context"
	"fmt"
	"maps"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/csi"
)

// Labels of snapshots that exist only while a clone of a live volume is
// made: the daemon's (cairn.v1 CloneVolume), and the one the driver used
// before the daemon made such clones (left by an interrupted clone).
const (
	labelTemporary    = "cairn.temporary"
	labelOldTemporary = "csi.temporary"
)

// snapshot is the driver's view of a snapshot of the API.
func snapshot(s *cairnv1.Snapshot) csi.Snapshot {
	return csi.Snapshot{ID: s.GetVolume() + "@" + s.GetName(), Volume: s.GetVolume(), Name: s.GetName(),
		Group: s.GetGroup(), Created: s.GetCreated().AsTime(), Bytes: s.GetBytes(), Labels: maps.Clone(s.GetLabels())}
}

// CreateSnapshot snapshots volume as name.
func (b *Backend) CreateSnapshot(ctx context.Context, volume, name string, labels map[string]string) (csi.Snapshot, error) {
	snaps, err := b.create(ctx, &cairnv1.CreateSnapshotRequest{Volume: volume, Name: name, Labels: labels})
	if err != nil {
		return csi.Snapshot{}, err
	}
	return snaps[0], nil
}

// CreateGroupSnapshot snapshots volumes at one instant, each as
// VOLUME@group.
func (b *Backend) CreateGroupSnapshot(ctx context.Context, group string, volumes []string, labels map[string]string) ([]csi.Snapshot, error) {
	return b.create(ctx, &cairnv1.CreateSnapshotRequest{Name: group, Group: group, Volumes: volumes, Labels: labels})
}

// create makes the snapshots req asks for.
func (b *Backend) create(ctx context.Context, req *cairnv1.CreateSnapshotRequest) ([]csi.Snapshot, error) {
	resp, err := do(ctx, b.d, func(ctx context.Context) (*cairnv1.CreateSnapshotResponse, error) {
		return b.d.api.Snapshots.CreateSnapshot(ctx, req)
	})
	if err != nil {
		return nil, err
	}
	out := make([]csi.Snapshot, 0, len(resp.GetSnapshots()))
	for _, s := range resp.GetSnapshots() {
		out = append(out, snapshot(s))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("snapshot %s: the daemon answered with no snapshot", req.GetName())
	}
	return out, nil
}

// ListSnapshots returns every snapshot but the temporary ones.
func (b *Backend) ListSnapshots(ctx context.Context) ([]csi.Snapshot, error) {
	resp, err := do(ctx, b.d, func(ctx context.Context) (*cairnv1.ListSnapshotsResponse, error) {
		return b.d.api.Snapshots.ListSnapshots(ctx, &cairnv1.ListSnapshotsRequest{})
	})
	if err != nil {
		return nil, err
	}
	out := make([]csi.Snapshot, 0, len(resp.GetSnapshots()))
	for _, s := range resp.GetSnapshots() {
		if s.GetLabels()[labelTemporary] != "" || s.GetLabels()[labelOldTemporary] != "" {
			continue
		}
		out = append(out, snapshot(s))
	}
	return out, nil
}

// DeleteSnapshot deletes the snapshot VOLUME@NAME.
func (b *Backend) DeleteSnapshot(ctx context.Context, id string) error {
	_, err := do(ctx, b.d, func(ctx context.Context) (*cairnv1.DeleteSnapshotResponse, error) {
		return b.d.api.Snapshots.DeleteSnapshot(ctx, &cairnv1.DeleteSnapshotRequest{Ref: id})
	})
	return err
}

// CloneSnapshot creates volume name from snapshot id, with spec.
func (b *Backend) CloneSnapshot(ctx context.Context, id, name string, spec csi.VolumeSpec) (csi.Volume, error) {
	return b.clone(ctx, id, name, spec)
}

// CloneVolume creates volume name from the current content of src, with
// spec.
func (b *Backend) CloneVolume(ctx context.Context, src, name string, spec csi.VolumeSpec) (csi.Volume, error) {
	return b.clone(ctx, src, name, spec)
}

// clone asks the daemon for a clone of source (a snapshot or a volume).
func (b *Backend) clone(ctx context.Context, source, name string, s csi.VolumeSpec) (csi.Volume, error) {
	v, err := do(ctx, b.d, func(ctx context.Context) (*cairnv1.Volume, error) {
		return b.d.api.Volumes.CloneVolume(ctx, &cairnv1.CloneVolumeRequest{Source: source, Name: name,
			Quota: s.Quota, Compress: s.Compress, Replicas: int32(s.Replicas), Labels: s.Labels})
	})
	return volume(v), err
}
