package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strings"
	"syscall"

	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/snapshots"
)

// LabelTemporary marks the snapshot CloneVolume cuts of a live volume
// and deletes once cloned: listings may hide it.
const LabelTemporary = "cairn.temporary"

// CloneVolume makes a volume of a snapshot or of a live volume's current
// content, configured as the request says.
func (v volumesService) CloneVolume(ctx context.Context, r *cairnv1.CloneVolumeRequest) (*cairnv1.Volume, error) {
	switch {
	case r.GetSource() == "":
		return nil, required("source")
	case r.GetName() == "":
		return nil, required("name")
	case r.GetReplicas() < 0:
		return nil, fmt.Errorf("replicas %d: want 0 (the cluster's default) or more: %w", r.GetReplicas(), syscall.EINVAL)
	}
	if err := v.s.checkCloneQuota(ctx, r.GetSource(), r.GetQuota()); err != nil {
		return nil, err
	}
	var err error
	if strings.Contains(r.GetSource(), "@") {
		_, err = v.s.cfg.Snapshots.Clone(ctx, r.GetSource(), r.GetName())
	} else {
		err = v.s.cloneLive(ctx, r.GetSource(), r.GetName())
	}
	if err != nil {
		return nil, err
	}
	cfg := fs.VolumeConfig{Quota: r.GetQuota(), Compress: r.GetCompress(), Replicas: int(r.GetReplicas()),
		Labels: maps.Clone(r.GetLabels())}
	if _, err := v.s.cfg.FS.UpdateVolume(ctx, r.GetName(), func(c *fs.VolumeConfig) error { *c = cfg; return nil }); err != nil {
		// A clone with its source's configuration is not what was asked.
		if derr := v.s.cfg.FS.DeleteVolume(context.WithoutCancel(ctx), r.GetName()); derr != nil {
			err = errors.Join(err, fmt.Errorf("delete the unconfigured clone %s: %w", r.GetName(), derr))
		}
		return nil, fmt.Errorf("configure clone %s: %w", r.GetName(), err)
	}
	return v.s.volume(ctx, r.GetName())
}

// checkCloneQuota refuses a quota below the bytes the source holds: the
// clone would be over its quota from the start.
func (s *Server) checkCloneQuota(ctx context.Context, source string, quota uint64) error {
	if quota == 0 {
		return nil
	}
	var holds uint64
	if strings.Contains(source, "@") {
		snap, err := s.cfg.Snapshots.Get(ctx, source)
		if err != nil {
			return err
		}
		holds = snap.Usage.Bytes
	} else {
		vol, err := s.volume(ctx, source)
		if err != nil {
			return err
		}
		holds = vol.GetUsedBytes()
	}
	if quota < holds {
		return errorf(codes.FailedPrecondition, "quota %d bytes is below the %d bytes %s holds", quota, holds, source)
	}
	return nil
}

// cloneLive clones the current content of volume src as name: it cuts a
// temporary snapshot (so the cut is consistent and garbage collection
// keeps what it references), clones it and deletes it.
func (s *Server) cloneLive(ctx context.Context, src, name string) error {
	sum := sha256.Sum256([]byte(name))
	tmp := "clone-" + hex.EncodeToString(sum[:8])
	ref := src + "@" + tmp
	labels := map[string]string{LabelTemporary: "source of clone " + name}
	_, err := s.cfg.Snapshots.Create(ctx, src, tmp, snapshots.CreateOptions{Labels: labels})
	if err != nil && !errors.Is(err, snapshots.ErrExists) { // exists: left by an interrupted clone
		return err
	}
	_, err = s.cfg.Snapshots.Clone(ctx, ref, name)
	if derr := s.cfg.Snapshots.Delete(context.WithoutCancel(ctx), ref); derr != nil {
		err = errors.Join(err, fmt.Errorf("delete the clone's temporary snapshot %s: %w", ref, derr))
	}
	return err
}
