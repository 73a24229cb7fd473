package csi

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"strings"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"github.com/dustin/go-humanize"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Controller serves the CSI Controller and GroupController services
// over a Backend. Every RPC is idempotent; operations on the same volume
// or snapshot name are serialized.
type Controller struct {
	csi.UnimplementedControllerServer
	csi.UnimplementedGroupControllerServer

	b     Backend
	log   *slog.Logger
	locks keyedMutex
}

// NewController returns a controller over b.
func NewController(b Backend, log *slog.Logger) *Controller {
	if log == nil {
		log = slog.Default()
	}
	return &Controller{b: b, log: log}
}

// ControllerGetCapabilities lists what the controller does.
func (c *Controller) ControllerGetCapabilities(context.Context, *csi.ControllerGetCapabilitiesRequest) (*csi.ControllerGetCapabilitiesResponse, error) {
	var caps []*csi.ControllerServiceCapability
	for _, t := range []csi.ControllerServiceCapability_RPC_Type{
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME,
		csi.ControllerServiceCapability_RPC_LIST_VOLUMES,
		csi.ControllerServiceCapability_RPC_GET_CAPACITY,
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_SNAPSHOT,
		csi.ControllerServiceCapability_RPC_LIST_SNAPSHOTS,
		csi.ControllerServiceCapability_RPC_GET_SNAPSHOT,
		csi.ControllerServiceCapability_RPC_CLONE_VOLUME,
		csi.ControllerServiceCapability_RPC_EXPAND_VOLUME,
		csi.ControllerServiceCapability_RPC_GET_VOLUME,
		csi.ControllerServiceCapability_RPC_SINGLE_NODE_MULTI_WRITER,
		csi.ControllerServiceCapability_RPC_GET_VOLUME_HEALTH,
		csi.ControllerServiceCapability_RPC_LIST_VOLUME_HEALTH,
	} {
		caps = append(caps, &csi.ControllerServiceCapability{Type: &csi.ControllerServiceCapability_Rpc{
			Rpc: &csi.ControllerServiceCapability_RPC{Type: t}}})
	}
	return &csi.ControllerGetCapabilitiesResponse{Capabilities: caps}, nil
}

// source is a volume content source: kind "snapshot" or "volume" and an
// ID, or the zero value for none.
type source struct{ kind, id string }

func (s source) String() string {
	if s.kind == "" {
		return ""
	}
	return s.kind + ":" + s.id
}

func parseSource(cs *csi.VolumeContentSource) (source, error) {
	switch {
	case cs == nil:
		return source{}, nil
	case cs.GetSnapshot() != nil:
		id := cs.GetSnapshot().GetSnapshotId()
		if id == "" {
			return source{}, missing("volume_content_source.snapshot.snapshot_id")
		}
		return source{"snapshot", id}, nil
	case cs.GetVolume() != nil:
		id := cs.GetVolume().GetVolumeId()
		if id == "" {
			return source{}, missing("volume_content_source.volume.volume_id")
		}
		return source{"volume", id}, nil
	}
	return source{}, errorf(codes.InvalidArgument, "volume_content_source of unknown type")
}

func (s source) proto() *csi.VolumeContentSource {
	switch s.kind {
	case "snapshot":
		return &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{
			Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: s.id}}}
	case "volume":
		return &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Volume{
			Volume: &csi.VolumeContentSource_VolumeSource{VolumeId: s.id}}}
	}
	return nil
}

// csiVolume describes v as CSI does.
func csiVolume(v Volume) *csi.Volume {
	ctx := decodeContext(v.Spec.Labels[labelContext])
	if ctx == nil {
		ctx = mountSpec{Mounter: MounterFUSE}.context()
	}
	var src source
	if kind, id, ok := strings.Cut(v.Spec.Labels[labelSource], ":"); ok {
		src = source{kind, id}
	}
	return &csi.Volume{VolumeId: v.Name, CapacityBytes: int64(v.Spec.Quota), VolumeContext: ctx, ContentSource: src.proto()}
}

// capacityRange reads a capacity range: the size to give a new volume
// (0: no quota) and the bounds an existing one must fall in.
func capacityRange(r *csi.CapacityRange) (size, required, limit uint64, err error) {
	if r.GetRequiredBytes() < 0 || r.GetLimitBytes() < 0 {
		return 0, 0, 0, errorf(codes.InvalidArgument, "capacity_range is negative")
	}
	required, limit = uint64(r.GetRequiredBytes()), uint64(r.GetLimitBytes())
	if limit != 0 && limit < required {
		return 0, 0, 0, errorf(codes.InvalidArgument, "capacity_range: limit_bytes %d below required_bytes %d", limit, required)
	}
	size = required
	if size == 0 {
		size = limit
	}
	return size, required, limit, nil
}

// fits reports whether a quota (0: none) lies in [required, limit].
func fits(quota, required, limit uint64) bool {
	if quota == 0 {
		return limit == 0
	}
	return quota >= required && (limit == 0 || quota <= limit)
}

// checkRoom refuses a capacity whose room to grow (capacity minus the
// bytes the volume holds) exceeds the store's free space: OutOfRange.
func (c *Controller) checkRoom(ctx context.Context, capacity, holds uint64) error {
	if capacity == 0 || capacity <= holds {
		return nil
	}
	free, _, err := c.b.Capacity(ctx)
	if err != nil {
		return statusError(err)
	}
	if capacity-holds > free {
		return errorf(codes.OutOfRange, "capacity %s (%d bytes) exceeds the %s free in the store",
			humanize.IBytes(capacity), capacity, humanize.IBytes(free))
	}
	return nil
}

// CreateVolume creates a volume, empty or cloned from a snapshot or a
// volume in constant time, with the requested capacity as its quota.
func (c *Controller) CreateVolume(ctx context.Context, req *csi.CreateVolumeRequest) (*csi.CreateVolumeResponse, error) {
	if req.GetName() == "" {
		return nil, missing("name")
	}
	if err := checkCapabilities(req.GetVolumeCapabilities()); err != nil {
		return nil, err
	}
	if len(req.GetMutableParameters()) > 0 {
		return nil, errorf(codes.InvalidArgument, "mutable_parameters: cairn volumes have none (no ModifyVolume)")
	}
	params, err := parseVolumeParams(req.GetParameters())
	if err != nil {
		return nil, err
	}
	size, required, limit, err := capacityRange(req.GetCapacityRange())
	if err != nil {
		return nil, err
	}
	src, err := parseSource(req.GetVolumeContentSource())
	if err != nil {
		return nil, err
	}
	name := cairnName(req.GetName())
	defer c.locks.lock("volume/" + name)()

	vctx := params.mount.context()
	labels := maps.Clone(params.labels)
	labels[labelName] = req.GetName()
	labels[labelContext] = encodeContext(vctx)
	if src.kind != "" {
		labels[labelSource] = src.String()
	}
	spec := VolumeSpec{Quota: size, Compress: params.compress, Replicas: params.replicas, Labels: labels}

	v, err := c.b.GetVolume(ctx, name)
	switch {
	case err == nil:
		return c.existingVolume(ctx, req, v, spec, required, limit)
	case !errors.Is(err, ErrNotFound):
		return nil, statusError(err)
	}
	switch src.kind {
	case "":
		if err := c.checkRoom(ctx, size, 0); err != nil {
			return nil, err
		}
		v, err = c.b.CreateVolume(ctx, name, spec)
	case "snapshot":
		v, err = c.cloneSnapshot(ctx, src.id, name, spec)
	case "volume":
		v, err = c.cloneVolume(ctx, src.id, name, spec)
	}
	if err != nil {
		return nil, statusError(err)
	}
	c.log.Info("csi: volume created", "volume", name, "csi_name", req.GetName(), "capacity", size, "source", src.String(), "mounter", params.mount.Mounter)
	return &csi.CreateVolumeResponse{Volume: csiVolume(v)}, nil
}

// existingVolume answers a CreateVolume for a name already taken: the
// same volume if compatible, AlreadyExists otherwise.
func (c *Controller) existingVolume(ctx context.Context, req *csi.CreateVolumeRequest, v Volume, spec VolumeSpec, required, limit uint64) (*csi.CreateVolumeResponse, error) {
	owner, ok := v.Spec.Labels[labelName]
	if !ok {
		return nil, errorf(codes.AlreadyExists, "volume %q exists and was not created by this driver", v.Name)
	}
	if owner != req.GetName() {
		// A clone takes its source's labels until its own are written:
		// a clone interrupted in between is finished here.
		if spec.Labels[labelSource] == "" {
			return nil, errorf(codes.AlreadyExists, "volume %q exists for CSI name %q", v.Name, owner)
		}
		var err error
		if v, err = c.b.UpdateVolume(ctx, v.Name, func(s *VolumeSpec) error { *s = spec; return nil }); err != nil {
			return nil, statusError(err)
		}
		c.log.Info("csi: finished an interrupted clone", "volume", v.Name)
	}
	if !fits(v.Spec.Quota, required, limit) {
		return nil, errorf(codes.AlreadyExists, "volume %q exists with capacity %d, outside the requested range [%d, %d]", v.Name, v.Spec.Quota, required, limit)
	}
	for _, l := range []string{labelSource, labelContext} {
		if v.Spec.Labels[l] != spec.Labels[l] {
			return nil, errorf(codes.AlreadyExists, "volume %q exists with %s %q, not %q", v.Name, l, v.Spec.Labels[l], spec.Labels[l])
		}
	}
	if v.Spec.Compress != spec.Compress || v.Spec.Replicas != spec.Replicas {
		return nil, errorf(codes.AlreadyExists, "volume %q exists with other parameters (compress=%v, replicas=%d)", v.Name, v.Spec.Compress, v.Spec.Replicas)
	}
	return &csi.CreateVolumeResponse{Volume: csiVolume(v)}, nil
}

// cloneSnapshot creates volume name from snapshot id.
func (c *Controller) cloneSnapshot(ctx context.Context, id, name string, spec VolumeSpec) (Volume, error) {
	s, err := c.snapshot(ctx, id)
	if err != nil {
		return Volume{}, err
	}
	if spec.Quota != 0 && spec.Quota < s.Bytes {
		return Volume{}, errorf(codes.OutOfRange, "capacity %d is below the %d bytes of snapshot %s", spec.Quota, s.Bytes, id)
	}
	if err := c.checkRoom(ctx, spec.Quota, s.Bytes); err != nil {
		return Volume{}, err
	}
	return c.b.CloneSnapshot(ctx, id, name, spec)
}

// cloneVolume creates volume name from the current content of volume src.
func (c *Controller) cloneVolume(ctx context.Context, src, name string, spec VolumeSpec) (Volume, error) {
	if !validVolumeID(src) {
		return Volume{}, errorf(codes.NotFound, "source volume %q is not a volume of this driver", src)
	}
	v, err := c.b.GetVolume(ctx, src)
	if err != nil {
		return Volume{}, statusError(err)
	}
	if spec.Quota != 0 && spec.Quota < v.Used {
		return Volume{}, errorf(codes.OutOfRange, "capacity %d is below the %d bytes in source volume %s", spec.Quota, v.Used, src)
	}
	if err := c.checkRoom(ctx, spec.Quota, v.Used); err != nil {
		return Volume{}, err
	}
	return c.b.CloneVolume(ctx, src, name, spec)
}

// DeleteVolume deletes a volume this driver created; a volume that does
// not exist (or an ID of another driver) is already deleted.
func (c *Controller) DeleteVolume(ctx context.Context, req *csi.DeleteVolumeRequest) (*csi.DeleteVolumeResponse, error) {
	id := req.GetVolumeId()
	if id == "" {
		return nil, missing("volume_id")
	}
	if !validVolumeID(id) {
		return &csi.DeleteVolumeResponse{}, nil
	}
	defer c.locks.lock("volume/" + id)()
	v, err := c.b.GetVolume(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return &csi.DeleteVolumeResponse{}, nil
	} else if err != nil {
		return nil, statusError(err)
	}
	if _, ok := v.Spec.Labels[labelName]; !ok {
		return nil, errorf(codes.FailedPrecondition, "volume %q was not created by this driver: delete it with `cairn volume delete`", id)
	}
	if err := c.b.DeleteVolume(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
		if errors.Is(err, ErrBusy) {
			return nil, errorf(codes.FailedPrecondition, "volume %q is still mounted: %v", id, err)
		}
		return nil, statusError(err)
	}
	c.log.Info("csi: volume deleted", "volume", id)
	return &csi.DeleteVolumeResponse{}, nil
}

// volume returns the volume with the given ID, NotFound if it has none.
func (c *Controller) volume(ctx context.Context, id string) (Volume, error) {
	if id == "" {
		return Volume{}, missing("volume_id")
	}
	if !validVolumeID(id) {
		return Volume{}, errorf(codes.NotFound, "volume %q is not a volume of this driver", id)
	}
	v, err := c.b.GetVolume(ctx, id)
	return v, statusError(err)
}

// ControllerExpandVolume raises a volume's quota. Shrinking is a no-op
// that reports the current capacity; the mount sees the new size at once.
func (c *Controller) ControllerExpandVolume(ctx context.Context, req *csi.ControllerExpandVolumeRequest) (*csi.ControllerExpandVolumeResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, missing("volume_id")
	}
	if req.GetCapacityRange() == nil {
		return nil, missing("capacity_range")
	}
	size, _, _, err := capacityRange(req.GetCapacityRange())
	if err != nil {
		return nil, err
	}
	if req.GetVolumeCapability() != nil {
		if err := checkCapability(req.GetVolumeCapability()); err != nil {
			return nil, err
		}
	}
	defer c.locks.lock("volume/" + req.GetVolumeId())()
	v, err := c.volume(ctx, req.GetVolumeId())
	if err != nil {
		return nil, err
	}
	if v.Spec.Quota == 0 || size <= v.Spec.Quota {
		// No quota (unlimited), or already as large.
		return &csi.ControllerExpandVolumeResponse{CapacityBytes: int64(max(v.Spec.Quota, size))}, nil
	}
	if err := c.checkRoom(ctx, size, v.Used); err != nil {
		return nil, err
	}
	v, err = c.b.UpdateVolume(ctx, v.Name, func(s *VolumeSpec) error {
		s.Quota = max(s.Quota, size)
		return nil
	})
	if err != nil {
		return nil, statusError(err)
	}
	c.log.Info("csi: volume expanded", "volume", v.Name, "capacity", v.Spec.Quota)
	return &csi.ControllerExpandVolumeResponse{CapacityBytes: int64(v.Spec.Quota)}, nil
}

// ValidateVolumeCapabilities confirms the capabilities cairn provides.
func (c *Controller) ValidateVolumeCapabilities(ctx context.Context, req *csi.ValidateVolumeCapabilitiesRequest) (*csi.ValidateVolumeCapabilitiesResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, missing("volume_id")
	}
	if len(req.GetVolumeCapabilities()) == 0 {
		return nil, missing("volume_capabilities")
	}
	if _, err := c.volume(ctx, req.GetVolumeId()); err != nil {
		return nil, err
	}
	if err := checkCapabilities(req.GetVolumeCapabilities()); err != nil {
		return &csi.ValidateVolumeCapabilitiesResponse{Message: err.Error()}, nil
	}
	if _, err := parseVolumeParams(req.GetParameters()); err != nil {
		return &csi.ValidateVolumeCapabilitiesResponse{Message: err.Error()}, nil
	}
	if _, err := parseMountSpec(req.GetVolumeContext(), "volume context"); err != nil {
		return &csi.ValidateVolumeCapabilitiesResponse{Message: err.Error()}, nil
	}
	return &csi.ValidateVolumeCapabilitiesResponse{Confirmed: &csi.ValidateVolumeCapabilitiesResponse_Confirmed{
		VolumeContext: req.GetVolumeContext(), VolumeCapabilities: req.GetVolumeCapabilities(), Parameters: req.GetParameters()}}, nil
}

// ListVolumes lists the volumes this driver created, by ID, in pages.
func (c *Controller) ListVolumes(ctx context.Context, req *csi.ListVolumesRequest) (*csi.ListVolumesResponse, error) {
	vols, err := c.driverVolumes(ctx)
	if err != nil {
		return nil, err
	}
	vols, next, err := page(vols, func(v Volume) string { return v.Name }, req.GetStartingToken(), req.GetMaxEntries())
	if err != nil {
		return nil, err
	}
	resp := &csi.ListVolumesResponse{NextToken: next}
	for _, v := range vols {
		resp.Entries = append(resp.Entries, &csi.ListVolumesResponse_Entry{Volume: csiVolume(v)})
	}
	return resp, nil
}

// driverVolumes returns the volumes this driver created, by name.
func (c *Controller) driverVolumes(ctx context.Context) ([]Volume, error) {
	all, err := c.b.ListVolumes(ctx)
	if err != nil {
		return nil, statusError(err)
	}
	var out []Volume
	for _, v := range all {
		if _, ok := v.Spec.Labels[labelName]; ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// GetCapacity reports the free space of the store: the largest volume a
// CreateVolume accepts.
func (c *Controller) GetCapacity(ctx context.Context, req *csi.GetCapacityRequest) (*csi.GetCapacityResponse, error) {
	if _, err := parseVolumeParams(req.GetParameters()); err != nil {
		return nil, err
	}
	if len(req.GetVolumeCapabilities()) > 0 {
		if err := checkCapabilities(req.GetVolumeCapabilities()); err != nil {
			return &csi.GetCapacityResponse{}, nil
		}
	}
	free, _, err := c.b.Capacity(ctx)
	if err != nil {
		return nil, statusError(err)
	}
	return &csi.GetCapacityResponse{AvailableCapacity: int64(free), MaximumVolumeSize: wrapperspb.Int64(int64(free))}, nil
}

// ControllerGetVolume describes a volume.
func (c *Controller) ControllerGetVolume(ctx context.Context, req *csi.ControllerGetVolumeRequest) (*csi.ControllerGetVolumeResponse, error) {
	v, err := c.volume(ctx, req.GetVolumeId())
	if err != nil {
		return nil, err
	}
	return &csi.ControllerGetVolumeResponse{Volume: csiVolume(v), Status: &csi.ControllerGetVolumeResponse_VolumeStatus{}}, nil
}
