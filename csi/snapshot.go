package csi

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sort"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// csiSnapshot describes s as CSI does. Snapshots are ready at once: the
// cut is taken and durable when CreateSnapshot returns.
func csiSnapshot(s Snapshot) *csi.Snapshot {
	return &csi.Snapshot{
		SnapshotId: s.ID, SourceVolumeId: s.Volume, SizeBytes: int64(s.Bytes),
		CreationTime: timestamppb.New(s.Created), ReadyToUse: true, GroupSnapshotId: s.Group,
	}
}

// sortedSnapshots returns every snapshot, ordered by ID.
func (c *Controller) sortedSnapshots(ctx context.Context) ([]Snapshot, error) {
	all, err := c.b.ListSnapshots(ctx)
	if err != nil {
		return nil, statusError(err)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	return all, nil
}

// snapshot returns the snapshot with the given ID, NotFound if none.
func (c *Controller) snapshot(ctx context.Context, id string) (Snapshot, error) {
	if !validSnapshotID(id) {
		return Snapshot{}, errorf(codes.NotFound, "snapshot %q is not a snapshot of this driver", id)
	}
	all, err := c.b.ListSnapshots(ctx)
	if err != nil {
		return Snapshot{}, statusError(err)
	}
	for _, s := range all {
		if s.ID == id {
			return s, nil
		}
	}
	return Snapshot{}, errorf(codes.NotFound, "snapshot %q not found", id)
}

// CreateSnapshot snapshots a volume. The CO's name is unique among all
// snapshots: asking again with the same name and volume returns the
// snapshot, with another volume fails with AlreadyExists.
func (c *Controller) CreateSnapshot(ctx context.Context, req *csi.CreateSnapshotRequest) (*csi.CreateSnapshotResponse, error) {
	if req.GetName() == "" {
		return nil, missing("name")
	}
	if req.GetSourceVolumeId() == "" {
		return nil, missing("source_volume_id")
	}
	labels, err := parseSnapshotParams(req.GetParameters())
	if err != nil {
		return nil, err
	}
	name := cairnName(req.GetName())
	defer c.locks.lock("snapshot/" + name)()
	all, err := c.b.ListSnapshots(ctx)
	if err != nil {
		return nil, statusError(err)
	}
	for _, s := range all {
		if s.Labels[labelName] != req.GetName() || s.Group != "" {
			continue
		}
		if s.Volume != req.GetSourceVolumeId() {
			return nil, errorf(codes.AlreadyExists, "snapshot %q exists of volume %q, not %q", req.GetName(), s.Volume, req.GetSourceVolumeId())
		}
		return &csi.CreateSnapshotResponse{Snapshot: csiSnapshot(s)}, nil
	}
	if _, err := c.volume(ctx, req.GetSourceVolumeId()); err != nil {
		return nil, err
	}
	labels[labelName] = req.GetName()
	s, err := c.b.CreateSnapshot(ctx, req.GetSourceVolumeId(), name, labels)
	if err != nil {
		return nil, statusError(err)
	}
	c.log.Info("csi: snapshot created", "snapshot", s.ID, "csi_name", req.GetName())
	return &csi.CreateSnapshotResponse{Snapshot: csiSnapshot(s)}, nil
}

// DeleteSnapshot deletes a snapshot; one that does not exist is deleted
// already. A member of a group snapshot goes with its group only.
func (c *Controller) DeleteSnapshot(ctx context.Context, req *csi.DeleteSnapshotRequest) (*csi.DeleteSnapshotResponse, error) {
	id := req.GetSnapshotId()
	if id == "" {
		return nil, missing("snapshot_id")
	}
	s, err := c.snapshot(ctx, id)
	if status, ok := statusCode(err); ok && status == codes.NotFound {
		return &csi.DeleteSnapshotResponse{}, nil
	} else if err != nil {
		return nil, err
	}
	if s.Group != "" {
		return nil, errorf(codes.InvalidArgument, "snapshot %q is part of group snapshot %q: delete the group", id, s.Group)
	}
	if err := c.b.DeleteSnapshot(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
		return nil, statusError(err)
	}
	c.log.Info("csi: snapshot deleted", "snapshot", id)
	return &csi.DeleteSnapshotResponse{}, nil
}

// ListSnapshots lists snapshots by ID, in pages, optionally only the one
// with a given ID or those of a given source volume.
func (c *Controller) ListSnapshots(ctx context.Context, req *csi.ListSnapshotsRequest) (*csi.ListSnapshotsResponse, error) {
	all, err := c.sortedSnapshots(ctx)
	if err != nil {
		return nil, err
	}
	all = slices.DeleteFunc(all, func(s Snapshot) bool {
		return (req.GetSnapshotId() != "" && s.ID != req.GetSnapshotId()) ||
			(req.GetSourceVolumeId() != "" && s.Volume != req.GetSourceVolumeId())
	})
	snaps, next, err := page(all, func(s Snapshot) string { return s.ID }, req.GetStartingToken(), req.GetMaxEntries())
	if err != nil {
		return nil, err
	}
	resp := &csi.ListSnapshotsResponse{NextToken: next}
	for _, s := range snaps {
		resp.Entries = append(resp.Entries, &csi.ListSnapshotsResponse_Entry{Snapshot: csiSnapshot(s)})
	}
	return resp, nil
}

// GetSnapshot describes a snapshot.
func (c *Controller) GetSnapshot(ctx context.Context, req *csi.GetSnapshotRequest) (*csi.GetSnapshotResponse, error) {
	if req.GetSnapshotId() == "" {
		return nil, missing("snapshot_id")
	}
	s, err := c.snapshot(ctx, req.GetSnapshotId())
	if err != nil {
		return nil, err
	}
	return &csi.GetSnapshotResponse{Snapshot: csiSnapshot(s)}, nil
}

// GroupControllerGetCapabilities lists what the group controller does.
func (c *Controller) GroupControllerGetCapabilities(context.Context, *csi.GroupControllerGetCapabilitiesRequest) (*csi.GroupControllerGetCapabilitiesResponse, error) {
	return &csi.GroupControllerGetCapabilitiesResponse{Capabilities: []*csi.GroupControllerServiceCapability{{
		Type: &csi.GroupControllerServiceCapability_Rpc{Rpc: &csi.GroupControllerServiceCapability_RPC{
			Type: csi.GroupControllerServiceCapability_RPC_CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT}}}}}, nil
}

// groupMembers returns the snapshots of group snapshot id, by ID.
func (c *Controller) groupMembers(ctx context.Context, id string) ([]Snapshot, error) {
	if !snapNameRE.MatchString(id) {
		return nil, nil
	}
	all, err := c.sortedSnapshots(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(s Snapshot) bool { return s.Group != id }), nil
}

// csiGroup describes a group snapshot as CSI does.
func csiGroup(id string, members []Snapshot) *csi.VolumeGroupSnapshot {
	g := &csi.VolumeGroupSnapshot{GroupSnapshotId: id, ReadyToUse: true}
	for _, s := range members {
		g.Snapshots = append(g.Snapshots, csiSnapshot(s))
		if g.CreationTime == nil || s.Created.Before(g.CreationTime.AsTime()) {
			g.CreationTime = timestamppb.New(s.Created)
		}
	}
	return g
}

// sameIDs reports whether the members' IDs are exactly ids.
func sameIDs(members []Snapshot, ids []string) bool {
	have := make([]string, len(members))
	for i, s := range members {
		have[i] = s.ID
	}
	want := slices.Clone(ids)
	slices.Sort(want)
	return slices.Equal(have, want)
}

// CreateVolumeGroupSnapshot snapshots every source volume at one instant:
// writes to all of them are held while buffers are flushed and the cut
// is taken.
func (c *Controller) CreateVolumeGroupSnapshot(ctx context.Context, req *csi.CreateVolumeGroupSnapshotRequest) (*csi.CreateVolumeGroupSnapshotResponse, error) {
	if req.GetName() == "" {
		return nil, missing("name")
	}
	if len(req.GetSourceVolumeIds()) == 0 {
		return nil, missing("source_volume_ids")
	}
	labels, err := parseSnapshotParams(req.GetParameters())
	if err != nil {
		return nil, err
	}
	vols := slices.Clone(req.GetSourceVolumeIds())
	slices.Sort(vols)
	if len(slices.Compact(slices.Clone(vols))) != len(vols) {
		return nil, errorf(codes.InvalidArgument, "source_volume_ids names a volume twice")
	}
	group := cairnName(req.GetName())
	defer c.locks.lock("snapshot/" + group)()
	members, err := c.groupMembers(ctx, group)
	if err != nil {
		return nil, err
	}
	if len(members) > 0 {
		var have []string
		for _, s := range members {
			have = append(have, s.Volume)
		}
		slices.Sort(have)
		if !slices.Equal(have, vols) || members[0].Labels[labelName] != req.GetName() {
			return nil, errorf(codes.AlreadyExists, "group snapshot %q exists of volumes %v, not %v", req.GetName(), have, vols)
		}
		return &csi.CreateVolumeGroupSnapshotResponse{GroupSnapshot: csiGroup(group, members)}, nil
	}
	for _, v := range vols {
		if _, err := c.volume(ctx, v); err != nil {
			return nil, err
		}
	}
	labels = maps.Clone(labels)
	labels[labelName] = req.GetName()
	snaps, err := c.b.CreateGroupSnapshot(ctx, group, vols, labels)
	if err != nil {
		return nil, statusError(err)
	}
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].ID < snaps[j].ID })
	c.log.Info("csi: group snapshot created", "group", group, "volumes", vols)
	return &csi.CreateVolumeGroupSnapshotResponse{GroupSnapshot: csiGroup(group, snaps)}, nil
}

// DeleteVolumeGroupSnapshot deletes a group snapshot and its members.
func (c *Controller) DeleteVolumeGroupSnapshot(ctx context.Context, req *csi.DeleteVolumeGroupSnapshotRequest) (*csi.DeleteVolumeGroupSnapshotResponse, error) {
	id := req.GetGroupSnapshotId()
	if id == "" {
		return nil, missing("group_snapshot_id")
	}
	defer c.locks.lock("snapshot/" + id)()
	members, err := c.groupMembers(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(members) > 0 && len(req.GetSnapshotIds()) > 0 && !sameIDs(members, req.GetSnapshotIds()) {
		return nil, errorf(codes.InvalidArgument, "snapshot_ids %v do not match the %d members of group snapshot %q", req.GetSnapshotIds(), len(members), id)
	}
	for _, s := range members {
		if err := c.b.DeleteSnapshot(ctx, s.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, statusError(err)
		}
	}
	if len(members) > 0 {
		c.log.Info("csi: group snapshot deleted", "group", id, "members", len(members))
	}
	return &csi.DeleteVolumeGroupSnapshotResponse{}, nil
}

// GetVolumeGroupSnapshot describes a group snapshot.
func (c *Controller) GetVolumeGroupSnapshot(ctx context.Context, req *csi.GetVolumeGroupSnapshotRequest) (*csi.GetVolumeGroupSnapshotResponse, error) {
	id := req.GetGroupSnapshotId()
	if id == "" {
		return nil, missing("group_snapshot_id")
	}
	members, err := c.groupMembers(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(members) == 0 {
		return nil, errorf(codes.NotFound, "group snapshot %q not found", id)
	}
	if len(req.GetSnapshotIds()) > 0 && !sameIDs(members, req.GetSnapshotIds()) {
		return nil, errorf(codes.InvalidArgument, "snapshot_ids %v do not match the %d members of group snapshot %q", req.GetSnapshotIds(), len(members), id)
	}
	return &csi.GetVolumeGroupSnapshotResponse{GroupSnapshot: csiGroup(id, members)}, nil
}
