package control

import (
	"context"
	"fmt"
	"maps"
	"syscall"

	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/fs"
)

// volumesService implements cairnv1.VolumesServer.
type volumesService struct{ s *Server }

var _ cairnv1.VolumesServer = volumesService{}

// CreateVolume creates an empty volume.
func (v volumesService) CreateVolume(ctx context.Context, r *cairnv1.CreateVolumeRequest) (*cairnv1.Volume, error) {
	if r.GetName() == "" {
		return nil, required("name")
	}
	if r.GetReplicas() < 0 {
		return nil, fmt.Errorf("replicas %d: want 0 (the cluster's default) or more: %w", r.GetReplicas(), syscall.EINVAL)
	}
	cfg := fs.VolumeConfig{Quota: r.GetQuota(), Compress: r.GetCompress(), Replicas: int(r.GetReplicas()), Labels: r.GetLabels()}
	info, err := v.s.cfg.FS.CreateVolume(ctx, r.GetName(), cfg)
	if err != nil {
		return nil, err
	}
	return volumeProto(info, fs.Usage{}), nil
}

// ListVolumes lists every volume with its usage.
func (v volumesService) ListVolumes(ctx context.Context, _ *cairnv1.ListVolumesRequest) (*cairnv1.ListVolumesResponse, error) {
	infos, err := v.s.cfg.FS.ListVolumes(ctx)
	if err != nil {
		return nil, err
	}
	out := &cairnv1.ListVolumesResponse{Volumes: []*cairnv1.Volume{}}
	for _, info := range infos {
		pv, err := v.s.volume(ctx, info.Name)
		if err != nil {
			return nil, err
		}
		out.Volumes = append(out.Volumes, pv)
	}
	return out, nil
}

// GetVolume returns one volume with its usage.
func (v volumesService) GetVolume(ctx context.Context, r *cairnv1.GetVolumeRequest) (*cairnv1.Volume, error) {
	if r.GetName() == "" {
		return nil, required("name")
	}
	return v.s.volume(ctx, r.GetName())
}

// DeleteVolume deletes a volume unless it is mounted or in use.
func (v volumesService) DeleteVolume(ctx context.Context, r *cairnv1.DeleteVolumeRequest) (*cairnv1.DeleteVolumeResponse, error) {
	if r.GetName() == "" {
		return nil, required("name")
	}
	if err := v.s.inUse(ctx, r.GetName(), "delete"); err != nil {
		return nil, err
	}
	if err := v.s.cfg.FS.DeleteVolume(ctx, r.GetName()); err != nil {
		return nil, v.s.busy(r.GetName(), "delete", err)
	}
	return &cairnv1.DeleteVolumeResponse{}, nil
}

// SetQuota changes the quota; below the usage only with force.
func (v volumesService) SetQuota(ctx context.Context, r *cairnv1.SetQuotaRequest) (*cairnv1.Volume, error) {
	if r.GetName() == "" {
		return nil, required("name")
	}
	vol, err := v.s.volume(ctx, r.GetName())
	if err != nil {
		return nil, err
	}
	if q := r.GetQuota(); q != 0 && q < vol.GetUsedBytes() {
		return nil, errorf(codes.FailedPrecondition, "quota %d bytes is below the %d bytes volume %s holds: delete data first",
			q, vol.GetUsedBytes(), r.GetName())
	}
	return v.s.update(ctx, r.GetName(), func(c *fs.VolumeConfig) { c.Quota = r.GetQuota() })
}

// SetOptions changes compression, read-only and labels.
func (v volumesService) SetOptions(ctx context.Context, r *cairnv1.SetOptionsRequest) (*cairnv1.Volume, error) {
	if r.GetName() == "" {
		return nil, required("name")
	}
	return v.s.update(ctx, r.GetName(), func(c *fs.VolumeConfig) {
		if r.Compress != nil {
			c.Compress = r.GetCompress()
		}
		if r.ReadOnly != nil {
			c.ReadOnly = r.GetReadOnly()
		}
		if len(r.GetLabels()) > 0 {
			c.Labels = maps.Clone(c.Labels)
			if c.Labels == nil {
				c.Labels = map[string]string{}
			}
			for k, val := range r.GetLabels() {
				if val == "" {
					delete(c.Labels, k)
				} else {
					c.Labels[k] = val
				}
			}
		}
	})
}

// update changes a volume's configuration and returns it with its usage.
func (s *Server) update(ctx context.Context, name string, fn func(*fs.VolumeConfig)) (*cairnv1.Volume, error) {
	if _, err := s.cfg.FS.UpdateVolume(ctx, name, func(c *fs.VolumeConfig) error { fn(c); return nil }); err != nil {
		return nil, err
	}
	return s.volume(ctx, name)
}

// volume returns a volume's configuration and usage.
func (s *Server) volume(ctx context.Context, name string) (*cairnv1.Volume, error) {
	vol, err := s.cfg.FS.OpenVolume(ctx, name)
	if err != nil {
		return nil, err
	}
	u, err := vol.Usage(ctx)
	// Close also flushes what the volume's writers (a mount) buffered,
	// which can fail (a full quota): that is their error, reported to
	// them, not this reader's.
	_ = vol.Close(context.WithoutCancel(ctx))
	if err != nil {
		return nil, err
	}
	return volumeProto(vol.Info(), u), nil
}
