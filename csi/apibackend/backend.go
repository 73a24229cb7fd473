package apibackend

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/csi"
)

// Backend is csi.Backend over the daemon's Volumes, Snapshots and Health
// services. It holds no state: every answer is the daemon's.
type Backend struct{ d *Daemon }

var _ csi.Backend = (*Backend)(nil)

// do makes one call to the daemon (starting the daemon if need be) and
// maps its error to the csi kinds.
func do[T any](ctx context.Context, d *Daemon, fn func(context.Context) (T, error)) (T, error) {
	var out T
	err := d.call(ctx, func(ctx context.Context) error {
		var err error
		out, err = fn(ctx)
		return err
	})
	return out, apiError(err)
}

// volume is the driver's view of a volume of the API.
func volume(v *cairnv1.Volume) csi.Volume {
	return csi.Volume{Name: v.GetName(), Created: v.GetCreated().AsTime(), Used: v.GetUsedBytes(),
		Spec: csi.VolumeSpec{Quota: v.GetQuota(), Compress: v.GetCompress(), Replicas: int(v.GetReplicas()),
			Labels: maps.Clone(v.GetLabels())}}
}

// CreateVolume creates an empty volume.
func (b *Backend) CreateVolume(ctx context.Context, name string, s csi.VolumeSpec) (csi.Volume, error) {
	v, err := do(ctx, b.d, func(ctx context.Context) (*cairnv1.Volume, error) {
		return b.d.api.Volumes.CreateVolume(ctx, &cairnv1.CreateVolumeRequest{Name: name, Quota: s.Quota,
			Compress: s.Compress, Replicas: int32(s.Replicas), Labels: s.Labels})
	})
	return volume(v), err
}

// GetVolume describes a volume, with its usage.
func (b *Backend) GetVolume(ctx context.Context, name string) (csi.Volume, error) {
	v, err := do(ctx, b.d, func(ctx context.Context) (*cairnv1.Volume, error) {
		return b.d.api.Volumes.GetVolume(ctx, &cairnv1.GetVolumeRequest{Name: name})
	})
	return volume(v), err
}

// ListVolumes returns every volume, by name.
func (b *Backend) ListVolumes(ctx context.Context) ([]csi.Volume, error) {
	resp, err := do(ctx, b.d, func(ctx context.Context) (*cairnv1.ListVolumesResponse, error) {
		return b.d.api.Volumes.ListVolumes(ctx, &cairnv1.ListVolumesRequest{})
	})
	if err != nil {
		return nil, err
	}
	out := make([]csi.Volume, 0, len(resp.GetVolumes()))
	for _, v := range resp.GetVolumes() {
		out = append(out, volume(v))
	}
	slices.SortFunc(out, func(a, b csi.Volume) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// UpdateVolume applies fn to the volume's spec, through SetQuota and
// SetOptions. The replicas of a volume are fixed when it is made (the
// API has no call to change them): a change is ErrInvalid.
func (b *Backend) UpdateVolume(ctx context.Context, name string, fn func(*csi.VolumeSpec) error) (csi.Volume, error) {
	cur, err := b.GetVolume(ctx, name)
	if err != nil {
		return csi.Volume{}, err
	}
	want := cur.Spec
	want.Labels = maps.Clone(cur.Spec.Labels)
	if err := fn(&want); err != nil {
		return csi.Volume{}, err
	}
	if want.Replicas != cur.Spec.Replicas {
		return csi.Volume{}, fmt.Errorf("volume %s has %d replicas: the replicas of a volume cannot be changed: %w",
			name, cur.Spec.Replicas, csi.ErrInvalid)
	}
	v := cur
	if want.Quota != cur.Spec.Quota {
		if v, err = b.setQuota(ctx, name, want.Quota); err != nil {
			return csi.Volume{}, err
		}
	}
	if want.Compress != cur.Spec.Compress || !maps.Equal(want.Labels, cur.Spec.Labels) {
		req := &cairnv1.SetOptionsRequest{Name: name, Labels: labelChanges(cur.Spec.Labels, want.Labels)}
		if want.Compress != cur.Spec.Compress {
			req.Compress = &want.Compress
		}
		pv, err := do(ctx, b.d, func(ctx context.Context) (*cairnv1.Volume, error) {
			return b.d.api.Volumes.SetOptions(ctx, req)
		})
		if err != nil {
			return csi.Volume{}, err
		}
		v = volume(pv)
	}
	return v, nil
}

// setQuota sets a volume's quota; one below its usage is ErrInvalid (the
// daemon refuses it as FailedPrecondition).
func (b *Backend) setQuota(ctx context.Context, name string, quota uint64) (csi.Volume, error) {
	pv, err := do(ctx, b.d, func(ctx context.Context) (*cairnv1.Volume, error) {
		return b.d.api.Volumes.SetQuota(ctx, &cairnv1.SetQuotaRequest{Name: name, Quota: quota})
	})
	if errors.Is(err, csi.ErrBusy) {
		return csi.Volume{}, &kindError{msg: err.Error(), kind: csi.ErrInvalid}
	}
	return volume(pv), err
}

// labelChanges is the labels argument of SetOptions turning labels from
// into to: the changed ones, and the removed ones with an empty value.
func labelChanges(from, to map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range to {
		if from[k] != v {
			out[k] = v
		}
	}
	for k := range from {
		if _, ok := to[k]; !ok {
			out[k] = ""
		}
	}
	return out
}

// DeleteVolume deletes a volume; ErrBusy while it is mounted.
func (b *Backend) DeleteVolume(ctx context.Context, name string) error {
	_, err := do(ctx, b.d, func(ctx context.Context) (*cairnv1.DeleteVolumeResponse, error) {
		return b.d.api.Volumes.DeleteVolume(ctx, &cairnv1.DeleteVolumeRequest{Name: name})
	})
	return err
}

// CheckVolume asks the daemon to read the volume's metadata and root.
func (b *Backend) CheckVolume(ctx context.Context, name string) error {
	_, err := do(ctx, b.d, func(ctx context.Context) (*cairnv1.CheckVolumeResponse, error) {
		return b.d.api.Health.CheckVolume(ctx, &cairnv1.CheckVolumeRequest{Name: name})
	})
	return err
}
