package csi

import (
	"context"

	"github.com/container-storage-interface/spec/lib/go/csi"
)

// Health reasons (CamelCase, as the spec asks).
const (
	reasonStoreUnreachable  = "StoreUnreachable"  // metadata or chunk store fails its check
	reasonUnderReplicated   = "UnderReplicated"   // fewer storage nodes up than replicas asked for
	reasonVolumeUnreachable = "VolumeUnreachable" // the volume's metadata or root cannot be read
	reasonMountDead         = "MountDead"         // a publish of the volume on this node is a dead mount
	reasonMountMissing      = "MountMissing"      // a publish of the volume on this node is not mounted
	reasonMountFailing      = "MountFailing"      // a publish of the volume on this node fails to answer
)

// volumeHealth checks the store and volume id; it reports what is wrong
// (nothing if healthy).
func (c *Controller) volumeHealth(ctx context.Context, id string) *csi.VolumeHealth {
	h := &csi.VolumeHealth{VolumeId: id}
	if err := c.b.Check(ctx); err != nil {
		h.HealthStatuses = append(h.HealthStatuses, &csi.VolumeHealth_VolumeHealthEntry{
			Status: csi.VolumeHealthErrorType_INACCESSIBLE, Reason: reasonStoreUnreachable, Message: err.Error()})
	}
	if err := c.b.Redundancy(ctx); err != nil {
		h.HealthStatuses = append(h.HealthStatuses, &csi.VolumeHealth_VolumeHealthEntry{
			Status: csi.VolumeHealthErrorType_DEGRADED, Reason: reasonUnderReplicated, Message: err.Error()})
	}
	if err := c.b.CheckVolume(ctx, id); err != nil {
		h.HealthStatuses = append(h.HealthStatuses, &csi.VolumeHealth_VolumeHealthEntry{
			Status: csi.VolumeHealthErrorType_INACCESSIBLE, Reason: reasonVolumeUnreachable, Message: err.Error()})
	}
	return h
}

// ControllerGetVolumeHealth reports whether the volume's metadata and
// data are reachable, and whether new data is under-replicated.
func (c *Controller) ControllerGetVolumeHealth(ctx context.Context, req *csi.ControllerGetVolumeHealthRequest) (*csi.ControllerGetVolumeHealthResponse, error) {
	if _, err := c.volume(ctx, req.GetVolumeId()); err != nil {
		return nil, err
	}
	return &csi.ControllerGetVolumeHealthResponse{VolumeHealth: c.volumeHealth(ctx, req.GetVolumeId())}, nil
}

// ControllerListVolumeHealth lists the volumes with a health problem, in
// pages of the driver's volumes.
func (c *Controller) ControllerListVolumeHealth(ctx context.Context, req *csi.ControllerListVolumeHealthRequest) (*csi.ControllerListVolumeHealthResponse, error) {
	vols, err := c.driverVolumes(ctx)
	if err != nil {
		return nil, err
	}
	vols, next, err := page(vols, func(v Volume) string { return v.Name }, req.GetStartingToken(), req.GetMaxEntries())
	if err != nil {
		return nil, err
	}
	resp := &csi.ControllerListVolumeHealthResponse{NextToken: next}
	for _, v := range vols {
		if h := c.volumeHealth(ctx, v.Name); len(h.HealthStatuses) > 0 {
			resp.Entries = append(resp.Entries, h)
		}
	}
	return resp, nil
}
