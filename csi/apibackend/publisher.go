package apibackend

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/csi"
)

// ownerCSI is the owner the daemon records for a pod's publication
// (control.OwnerCSI).
const ownerCSI = "csi"

// Publisher is csi.Publisher over the daemon's Mounts service: the
// daemon serves the FUSE mounts, so they outlive the plugin.
type Publisher struct{ d *Daemon }

var _ csi.Publisher = (*Publisher)(nil)

// Publish asks the daemon to mount volume at target. A mount of the same
// volume there already is success (Publish is idempotent).
func (p *Publisher) Publish(ctx context.Context, volume, target string, readOnly bool) error {
	err := p.d.call(ctx, func(ctx context.Context) error {
		_, err := p.d.api.Mounts.Mount(ctx, &cairnv1.MountRequest{Volume: volume, Mountpoint: target,
			ReadOnly: readOnly, Owner: ownerCSI})
		if status.Code(err) == codes.AlreadyExists {
			return p.mountedThere(ctx, volume, target, readOnly, err)
		}
		return err
	})
	return apiError(err)
}

// mountedThere returns nil if the daemon's mount at target is volume
// (read-only if asked), else exists, the daemon's refusal.
func (p *Publisher) mountedThere(ctx context.Context, volume, target string, readOnly bool, exists error) error {
	resp, err := p.d.api.Mounts.ListMounts(ctx, &cairnv1.ListMountsRequest{})
	if err != nil {
		return fmt.Errorf("%w (listing the mounts: %v)", exists, err)
	}
	for _, m := range resp.GetMounts() {
		if filepath.Clean(m.GetMountpoint()) == filepath.Clean(target) && !m.GetSnapshot() &&
			m.GetVolume() == volume && (m.GetReadOnly() || !readOnly) {
			return nil
		}
	}
	return exists
}

// Unpublish asks the daemon to unmount target, lazily: a busy mount is
// detached at once and served until its files close. csi.ErrNotFound
// if the daemon serves nothing there; it does not start a daemon.
func (p *Publisher) Unpublish(ctx context.Context, target string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := p.d.api.Mounts.Unmount(ctx, &cairnv1.UnmountRequest{Mountpoint: target, Lazy: true})
	return apiError(err)
}

// Check returns nil if the daemon answers and is healthy, starting it if
// it is down and may be started.
func (p *Publisher) Check(ctx context.Context) error { return p.d.Check(ctx) }
