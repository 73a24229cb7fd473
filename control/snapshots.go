package control

import (
	"context"
	"strings"

	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/snapshots"
)

// snapshotsService implements cairnv1.SnapshotsServer over the snapshot
// manager; the streaming RPCs are in snapshots_stream.go, the schedules
// in schedules.go.
type snapshotsService struct{ s *Server }

var _ cairnv1.SnapshotsServer = snapshotsService{}

// CreateSnapshot cuts one volume, or a group of volumes at one instant,
// recording the hooks the client ran; with validate_only it only checks.
func (v snapshotsService) CreateSnapshot(ctx context.Context, r *cairnv1.CreateSnapshotRequest) (*cairnv1.CreateSnapshotResponse, error) {
	vols, name, err := createTarget(r)
	if err != nil {
		return nil, err
	}
	m := v.s.cfg.Snapshots
	if r.GetValidateOnly() {
		if err := m.CheckCreate(ctx, vols, name); err != nil {
			return nil, err
		}
		return &cairnv1.CreateSnapshotResponse{Snapshots: []*cairnv1.Snapshot{}}, nil
	}
	opts := snapshots.CreateOptions{Labels: r.GetLabels(), Hooks: hookRuns(r.GetHooks())}
	if r.GetScheduleHooks() {
		if opts.PreHook, opts.PostHook, err = v.scheduleHooks(ctx, r); err != nil {
			return nil, err
		}
	}
	var recs []snapshots.Snapshot
	if r.GetGroup() != "" {
		recs, err = m.CreateGroup(ctx, r.GetGroup(), vols, opts)
	} else {
		var rec snapshots.Snapshot
		rec, err = m.Create(ctx, r.GetVolume(), name, opts)
		recs = []snapshots.Snapshot{rec}
	}
	if err != nil {
		return nil, err
	}
	return &cairnv1.CreateSnapshotResponse{Snapshots: snapshotProtos(recs)}, nil
}

// scheduleHooks returns the hooks of the schedule of r's volume.
func (v snapshotsService) scheduleHooks(ctx context.Context, r *cairnv1.CreateSnapshotRequest) (pre, post string, err error) {
	if r.GetGroup() != "" {
		return "", "", errorf(codes.InvalidArgument, "schedule_hooks: a group snapshot has no one schedule; give its hooks")
	}
	scheds, err := v.s.cfg.Snapshots.Schedules(ctx)
	if err != nil {
		return "", "", err
	}
	for _, sc := range scheds {
		if sc.Volume == r.GetVolume() {
			if sc.PreHook == "" && sc.PostHook == "" {
				break
			}
			return sc.PreHook, sc.PostHook, nil
		}
	}
	return "", "", errorf(codes.FailedPrecondition, "schedule_hooks: volume %s has no schedule with hooks", r.GetVolume())
}

// createTarget returns the volumes and the snapshot name a create asks
// for: volume and name, or a group (named after the group) of volumes.
func createTarget(r *cairnv1.CreateSnapshotRequest) ([]string, string, error) {
	if g := r.GetGroup(); g != "" {
		switch {
		case len(r.GetVolumes()) == 0:
			return nil, "", required("volumes")
		case r.GetVolume() != "":
			return nil, "", errorf(codes.InvalidArgument, "group snapshot %s: list its volumes in volumes, not volume", g)
		case r.GetName() != "" && r.GetName() != g:
			return nil, "", errorf(codes.InvalidArgument, "group snapshot %s: its snapshots are named after the group, not %q", g, r.GetName())
		}
		return r.GetVolumes(), g, nil
	}
	switch {
	case r.GetVolume() == "":
		return nil, "", required("volume")
	case r.GetName() == "":
		return nil, "", required("name")
	case len(r.GetVolumes()) > 0:
		return nil, "", errorf(codes.InvalidArgument, "volumes is for a group snapshot: set group too")
	}
	return []string{r.GetVolume()}, r.GetName(), nil
}

// AddSnapshotHooks records hooks the client ran after CreateSnapshot.
func (v snapshotsService) AddSnapshotHooks(ctx context.Context, r *cairnv1.AddSnapshotHooksRequest) (*cairnv1.AddSnapshotHooksResponse, error) {
	if len(r.GetSnapshots()) == 0 {
		return nil, required("snapshots")
	}
	if len(r.GetHooks()) == 0 {
		return nil, required("hooks")
	}
	recs, err := v.s.cfg.Snapshots.AddHooks(ctx, r.GetSnapshots(), hookRuns(r.GetHooks()))
	if err != nil {
		return nil, err
	}
	return &cairnv1.AddSnapshotHooksResponse{Snapshots: snapshotProtos(recs)}, nil
}

// ListSnapshots lists a volume's snapshots, or every snapshot.
func (v snapshotsService) ListSnapshots(ctx context.Context, r *cairnv1.ListSnapshotsRequest) (*cairnv1.ListSnapshotsResponse, error) {
	if vol := r.GetVolume(); vol != "" {
		if err := fs.CheckVolumeName(vol); err != nil {
			return nil, err // not NotFound: no volume can have that name
		}
	}
	recs, err := v.s.cfg.Snapshots.List(ctx, r.GetVolume())
	if err != nil {
		return nil, err
	}
	return &cairnv1.ListSnapshotsResponse{Snapshots: snapshotProtos(recs)}, nil
}

// GetSnapshot returns a snapshot, with unique the bytes only it holds.
func (v snapshotsService) GetSnapshot(ctx context.Context, r *cairnv1.GetSnapshotRequest) (*cairnv1.GetSnapshotResponse, error) {
	if r.GetRef() == "" {
		return nil, required("ref")
	}
	m := v.s.cfg.Snapshots
	if !r.GetUnique() {
		rec, err := m.Get(ctx, r.GetRef())
		if err != nil {
			return nil, err
		}
		return &cairnv1.GetSnapshotResponse{Snapshot: snapshotProto(rec)}, nil
	}
	d, err := m.Info(ctx, r.GetRef())
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetSnapshotResponse{Snapshot: snapshotProto(d.Snapshot), UniqueBytes: d.UniqueBytes,
		UniqueStoredBytes: d.UniqueStored, UniqueChunks: d.UniqueChunks}, nil
}

// DeleteSnapshot deletes a snapshot unless its read-only view is mounted.
func (v snapshotsService) DeleteSnapshot(ctx context.Context, r *cairnv1.DeleteSnapshotRequest) (*cairnv1.DeleteSnapshotResponse, error) {
	if r.GetRef() == "" {
		return nil, required("ref")
	}
	if dirs := v.s.viewMounts(r.GetRef()); len(dirs) > 0 {
		return nil, errorf(codes.FailedPrecondition, "cannot delete snapshot %s: its read-only view is mounted on %s; unmount it first (cairn unmount DIR)",
			r.GetRef(), strings.Join(dirs, ", "))
	}
	if err := v.s.cfg.Snapshots.Delete(ctx, r.GetRef()); err != nil {
		return nil, err
	}
	return &cairnv1.DeleteSnapshotResponse{}, nil
}

// RestoreVolume rolls a volume back to a snapshot. A volume in use is
// refused, naming its holders (as `cairn snapshot restore --help` says):
// swapping the tree under open files would leave them stale.
func (v snapshotsService) RestoreVolume(ctx context.Context, r *cairnv1.RestoreVolumeRequest) (*cairnv1.Volume, error) {
	if r.GetVolume() == "" {
		return nil, required("volume")
	}
	if r.GetSnapshot() == "" {
		return nil, required("snapshot")
	}
	if err := v.s.inUse(ctx, r.GetVolume(), "restore"); err != nil {
		return nil, err
	}
	if _, err := v.s.cfg.Snapshots.Restore(ctx, r.GetVolume(), r.GetSnapshot()); err != nil {
		return nil, v.s.busy(r.GetVolume(), "restore", err)
	}
	return v.s.volume(ctx, r.GetVolume())
}

// CloneSnapshot creates a volume from a snapshot.
func (v snapshotsService) CloneSnapshot(ctx context.Context, r *cairnv1.CloneSnapshotRequest) (*cairnv1.Volume, error) {
	if r.GetSnapshot() == "" {
		return nil, required("snapshot")
	}
	if r.GetName() == "" {
		return nil, required("name")
	}
	info, err := v.s.cfg.Snapshots.Clone(ctx, r.GetSnapshot(), r.GetName())
	if err != nil {
		return nil, err
	}
	return v.s.volume(ctx, info.Name)
}

// viewMounts are the mountpoints of the daemon's mounts of snapshot ref's
// read-only view.
func (s *Server) viewMounts(ref string) []string {
	var dirs []string
	for _, m := range s.mounts.list() {
		if m.Snapshot && m.Volume == ref {
			dirs = append(dirs, m.Mountpoint)
		}
	}
	return dirs
}

// snapshotProtos is the API form of records; never nil, so --json shows [].
func snapshotProtos(recs []snapshots.Snapshot) []*cairnv1.Snapshot {
	out := make([]*cairnv1.Snapshot, 0, len(recs))
	for _, rec := range recs {
		out = append(out, snapshotProto(rec))
	}
	return out
}

// hookRuns are the records of hooks a client ran.
func hookRuns(hs []*cairnv1.HookRun) []snapshots.HookRun {
	var out []snapshots.HookRun
	for _, h := range hs {
		out = append(out, hookRun(h))
	}
	return out
}
