package host

import (
	"context"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
)

// Controller returns the CSI Controller service of the host, forwarded
// call by call (starting the host if it is down and may be started).
func (c *Client) Controller() csipb.ControllerServer {
	return &controller{c: c, cl: csipb.NewControllerClient(c.conn)}
}

// Group returns the CSI GroupController service of the host, forwarded.
func (c *Client) Group() csipb.GroupControllerServer {
	return &group{c: c, cl: csipb.NewGroupControllerClient(c.conn)}
}

// forward calls fn through c, returning its response.
func forward[Req, Resp any](ctx context.Context, c *Client, req Req, fn func(context.Context, Req, ...grpc.CallOption) (Resp, error)) (Resp, error) {
	var resp Resp
	err := c.call(ctx, func(ctx context.Context) error {
		var err error
		resp, err = fn(ctx, req)
		return err
	})
	return resp, err
}

// controller forwards each Controller call to the host's method of the
// same name.
type controller struct {
	csipb.UnimplementedControllerServer
	c  *Client
	cl csipb.ControllerClient
}

func (f *controller) CreateVolume(ctx context.Context, r *csipb.CreateVolumeRequest) (*csipb.CreateVolumeResponse, error) {
	return forward(ctx, f.c, r, f.cl.CreateVolume)
}

func (f *controller) DeleteVolume(ctx context.Context, r *csipb.DeleteVolumeRequest) (*csipb.DeleteVolumeResponse, error) {
	return forward(ctx, f.c, r, f.cl.DeleteVolume)
}

func (f *controller) ValidateVolumeCapabilities(ctx context.Context, r *csipb.ValidateVolumeCapabilitiesRequest) (*csipb.ValidateVolumeCapabilitiesResponse, error) {
	return forward(ctx, f.c, r, f.cl.ValidateVolumeCapabilities)
}

func (f *controller) ListVolumes(ctx context.Context, r *csipb.ListVolumesRequest) (*csipb.ListVolumesResponse, error) {
	return forward(ctx, f.c, r, f.cl.ListVolumes)
}

func (f *controller) ControllerListVolumeHealth(ctx context.Context, r *csipb.ControllerListVolumeHealthRequest) (*csipb.ControllerListVolumeHealthResponse, error) {
	return forward(ctx, f.c, r, f.cl.ControllerListVolumeHealth)
}

func (f *controller) ControllerGetVolumeHealth(ctx context.Context, r *csipb.ControllerGetVolumeHealthRequest) (*csipb.ControllerGetVolumeHealthResponse, error) {
	return forward(ctx, f.c, r, f.cl.ControllerGetVolumeHealth)
}

func (f *controller) GetCapacity(ctx context.Context, r *csipb.GetCapacityRequest) (*csipb.GetCapacityResponse, error) {
	return forward(ctx, f.c, r, f.cl.GetCapacity)
}

func (f *controller) ControllerGetCapabilities(ctx context.Context, r *csipb.ControllerGetCapabilitiesRequest) (*csipb.ControllerGetCapabilitiesResponse, error) {
	return forward(ctx, f.c, r, f.cl.ControllerGetCapabilities)
}

func (f *controller) CreateSnapshot(ctx context.Context, r *csipb.CreateSnapshotRequest) (*csipb.CreateSnapshotResponse, error) {
	return forward(ctx, f.c, r, f.cl.CreateSnapshot)
}

func (f *controller) DeleteSnapshot(ctx context.Context, r *csipb.DeleteSnapshotRequest) (*csipb.DeleteSnapshotResponse, error) {
	return forward(ctx, f.c, r, f.cl.DeleteSnapshot)
}

func (f *controller) ListSnapshots(ctx context.Context, r *csipb.ListSnapshotsRequest) (*csipb.ListSnapshotsResponse, error) {
	return forward(ctx, f.c, r, f.cl.ListSnapshots)
}

func (f *controller) GetSnapshot(ctx context.Context, r *csipb.GetSnapshotRequest) (*csipb.GetSnapshotResponse, error) {
	return forward(ctx, f.c, r, f.cl.GetSnapshot)
}

func (f *controller) ControllerExpandVolume(ctx context.Context, r *csipb.ControllerExpandVolumeRequest) (*csipb.ControllerExpandVolumeResponse, error) {
	return forward(ctx, f.c, r, f.cl.ControllerExpandVolume)
}

func (f *controller) ControllerGetVolume(ctx context.Context, r *csipb.ControllerGetVolumeRequest) (*csipb.ControllerGetVolumeResponse, error) {
	return forward(ctx, f.c, r, f.cl.ControllerGetVolume)
}

// group forwards each GroupController call to the host's method of the
// same name.
type group struct {
	csipb.UnimplementedGroupControllerServer
	c  *Client
	cl csipb.GroupControllerClient
}

func (f *group) GroupControllerGetCapabilities(ctx context.Context, r *csipb.GroupControllerGetCapabilitiesRequest) (*csipb.GroupControllerGetCapabilitiesResponse, error) {
	return forward(ctx, f.c, r, f.cl.GroupControllerGetCapabilities)
}

func (f *group) CreateVolumeGroupSnapshot(ctx context.Context, r *csipb.CreateVolumeGroupSnapshotRequest) (*csipb.CreateVolumeGroupSnapshotResponse, error) {
	return forward(ctx, f.c, r, f.cl.CreateVolumeGroupSnapshot)
}

func (f *group) DeleteVolumeGroupSnapshot(ctx context.Context, r *csipb.DeleteVolumeGroupSnapshotRequest) (*csipb.DeleteVolumeGroupSnapshotResponse, error) {
	return forward(ctx, f.c, r, f.cl.DeleteVolumeGroupSnapshot)
}

func (f *group) GetVolumeGroupSnapshot(ctx context.Context, r *csipb.GetVolumeGroupSnapshotRequest) (*csipb.GetVolumeGroupSnapshotResponse, error) {
	return forward(ctx, f.c, r, f.cl.GetVolumeGroupSnapshot)
}
