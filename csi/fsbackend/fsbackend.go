// Package fsbackend implements the CSI driver's Backend over a cairn
// filesystem (package fs) and its snapshot manager (package snapshots),
// in the process that owns the data directory.
package fsbackend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/cairn-storage/cairn/csi"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/snapshots"
)

// Backend is a csi.Backend over one filesystem.
type Backend struct {
	fs    *fs.FS
	snaps *snapshots.Manager
	dir   string
	space Space
}

var _ csi.Backend = (*Backend)(nil)

// Space is where the chunks live when it is not the data directory: a
// cluster's storage nodes.
type Space interface {
	// Capacity returns the bytes of chunks the storage can still take,
	// and in all, after replication.
	Capacity(ctx context.Context) (free, total uint64, err error)
	// Check fails while the storage cannot be reached.
	Check(ctx context.Context) error
	// Redundancy fails while new chunks get fewer replicas than asked.
	Redundancy(ctx context.Context) error
}

// New returns the backend of fsys and its snapshot manager m. The chunks
// are in space, or with space nil in the data directory dir, whose
// filesystem's free space is then the capacity.
func New(fsys *fs.FS, m *snapshots.Manager, dir string, space Space) *Backend {
	return &Backend{fs: fsys, snaps: m, dir: dir, space: space}
}

// kindError keeps an error's message and adds the csi error kind it is.
type kindError struct{ err, kind error }

func (e kindError) Error() string   { return e.err.Error() }
func (e kindError) Unwrap() []error { return []error{e.err, e.kind} }

// mapErr tags errors of fs and snapshots with the csi kinds.
func mapErr(err error) error {
	var kind error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNoVolume), errors.Is(err, snapshots.ErrNotFound):
		kind = csi.ErrNotFound
	case errors.Is(err, fs.ErrVolumeExists), errors.Is(err, snapshots.ErrExists):
		kind = csi.ErrExists
	case errors.Is(err, syscall.EBUSY):
		kind = csi.ErrBusy
	case errors.Is(err, syscall.EINVAL), errors.Is(err, snapshots.ErrInvalid):
		kind = csi.ErrInvalid
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		kind = csi.ErrNoSpace
	default:
		return err
	}
	return kindError{err, kind}
}

func config(s csi.VolumeSpec) fs.VolumeConfig {
	return fs.VolumeConfig{Quota: s.Quota, Compress: s.Compress, Replicas: s.Replicas, Labels: maps.Clone(s.Labels)}
}

func spec(c fs.VolumeConfig) csi.VolumeSpec {
	return csi.VolumeSpec{Quota: c.Quota, Compress: c.Compress, Replicas: c.Replicas, Labels: maps.Clone(c.Labels)}
}

// volume describes info, with its usage.
func (b *Backend) volume(ctx context.Context, info fs.VolumeInfo) (csi.Volume, error) {
	v := csi.Volume{Name: info.Name, Created: info.Created, Spec: spec(info.VolumeConfig)}
	vol, err := b.fs.OpenVolume(ctx, info.Name)
	if err != nil {
		return v, mapErr(err)
	}
	u, err := vol.Usage(ctx)
	closeRead(ctx, vol)
	v.Used = u.Bytes
	return v, mapErr(err)
}

// closeRead closes a volume opened to read it. Close also flushes what
// the volume's writers buffered, which can fail (a full quota): that is
// the writers' error, reported to them, not the reader's.
func closeRead(ctx context.Context, vol *fs.Volume) {
	_ = vol.Close(ctx)
}

// CreateVolume creates an empty volume.
func (b *Backend) CreateVolume(ctx context.Context, name string, s csi.VolumeSpec) (csi.Volume, error) {
	info, err := b.fs.CreateVolume(ctx, name, config(s))
	if err != nil {
		return csi.Volume{}, mapErr(err)
	}
	return csi.Volume{Name: info.Name, Created: info.Created, Spec: spec(info.VolumeConfig)}, nil
}

// GetVolume describes a volume.
func (b *Backend) GetVolume(ctx context.Context, name string) (csi.Volume, error) {
	info, err := b.fs.VolumeInfo(ctx, name)
	if err != nil {
		return csi.Volume{}, mapErr(err)
	}
	return b.volume(ctx, info)
}

// ListVolumes returns every volume, by name.
func (b *Backend) ListVolumes(ctx context.Context) ([]csi.Volume, error) {
	infos, err := b.fs.ListVolumes(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]csi.Volume, 0, len(infos))
	for _, info := range infos {
		v, err := b.volume(ctx, info)
		if errors.Is(err, csi.ErrNotFound) {
			continue // deleted meanwhile
		} else if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// UpdateVolume changes a volume's spec.
func (b *Backend) UpdateVolume(ctx context.Context, name string, fn func(*csi.VolumeSpec) error) (csi.Volume, error) {
	info, err := b.fs.UpdateVolume(ctx, name, func(c *fs.VolumeConfig) error {
		s := spec(*c)
		if err := fn(&s); err != nil {
			return err
		}
		*c = config(s)
		return nil
	})
	if err != nil {
		return csi.Volume{}, mapErr(err)
	}
	return b.volume(ctx, info)
}

// DeleteVolume deletes a volume; its snapshots stay.
func (b *Backend) DeleteVolume(ctx context.Context, name string) error {
	return mapErr(b.fs.DeleteVolume(ctx, name))
}

// CheckVolume reads the volume's usage and root inode.
func (b *Backend) CheckVolume(ctx context.Context, name string) error {
	vol, err := b.fs.OpenVolume(ctx, name)
	if err != nil {
		return mapErr(err)
	}
	defer closeRead(ctx, vol)
	_, err = vol.StatFS(ctx)
	if err == nil {
		_, err = vol.GetAttr(ctx, fs.RootIno)
	}
	return mapErr(err)
}

// snapshot describes a snapshot record.
func snapshot(s snapshots.Snapshot) csi.Snapshot {
	return csi.Snapshot{ID: s.Ref(), Volume: s.Volume, Name: s.Name, Group: s.Group,
		Created: s.Created, Bytes: s.Usage.Bytes, Labels: maps.Clone(s.Labels)}
}

// CreateSnapshot snapshots a volume.
func (b *Backend) CreateSnapshot(ctx context.Context, volume, name string, labels map[string]string) (csi.Snapshot, error) {
	s, err := b.snaps.Create(ctx, volume, name, snapshots.CreateOptions{Labels: labels})
	if err != nil {
		return csi.Snapshot{}, mapErr(err)
	}
	return snapshot(s), nil
}

// CreateGroupSnapshot snapshots volumes at one instant.
func (b *Backend) CreateGroupSnapshot(ctx context.Context, group string, volumes []string, labels map[string]string) ([]csi.Snapshot, error) {
	recs, err := b.snaps.CreateGroup(ctx, group, volumes, snapshots.CreateOptions{Labels: labels})
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]csi.Snapshot, len(recs))
	for i, s := range recs {
		out[i] = snapshot(s)
	}
	return out, nil
}

// ListSnapshots returns every snapshot.
func (b *Backend) ListSnapshots(ctx context.Context) ([]csi.Snapshot, error) {
	recs, err := b.snaps.List(ctx, "")
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]csi.Snapshot, 0, len(recs))
	for _, s := range recs {
		if s.Labels[labelTemporary] != "" {
			continue
		}
		out = append(out, snapshot(s))
	}
	return out, nil
}

// DeleteSnapshot deletes a snapshot.
func (b *Backend) DeleteSnapshot(ctx context.Context, id string) error {
	return mapErr(b.snaps.Delete(ctx, id))
}

// CloneSnapshot creates volume name from a snapshot, then gives it spec.
func (b *Backend) CloneSnapshot(ctx context.Context, id, name string, s csi.VolumeSpec) (csi.Volume, error) {
	if _, err := b.snaps.Clone(ctx, id, name); err != nil {
		return csi.Volume{}, mapErr(err)
	}
	return b.configureClone(ctx, name, s)
}

// labelTemporary marks the snapshot CloneVolume takes and deletes.
const labelTemporary = "csi.temporary"

// CloneVolume creates volume name from the current content of src: it
// snapshots src, clones the snapshot and deletes it.
func (b *Backend) CloneVolume(ctx context.Context, src, name string, s csi.VolumeSpec) (csi.Volume, error) {
	sum := sha256.Sum256([]byte(name))
	tmp := "csi-clone-" + hex.EncodeToString(sum[:8])
	ref := src + "@" + tmp
	_, err := b.snaps.Create(ctx, src, tmp, snapshots.CreateOptions{Labels: map[string]string{labelTemporary: "clone source of " + name}})
	if err != nil && !errors.Is(err, snapshots.ErrExists) { // exists: left by an interrupted clone
		return csi.Volume{}, mapErr(err)
	}
	_, err = b.snaps.Clone(ctx, ref, name)
	if derr := b.snaps.Delete(context.WithoutCancel(ctx), ref); derr != nil {
		err = errors.Join(err, fmt.Errorf("delete the clone's temporary snapshot %s: %w", ref, derr))
	}
	if err != nil {
		return csi.Volume{}, mapErr(err)
	}
	return b.configureClone(ctx, name, s)
}

// configureClone gives a fresh clone its spec (it has its source's), or
// deletes it if that fails.
func (b *Backend) configureClone(ctx context.Context, name string, s csi.VolumeSpec) (csi.Volume, error) {
	v, err := b.UpdateVolume(ctx, name, func(cur *csi.VolumeSpec) error { *cur = s; return nil })
	if err != nil {
		if derr := b.fs.DeleteVolume(context.WithoutCancel(ctx), name); derr != nil {
			err = errors.Join(err, fmt.Errorf("delete the unconfigured clone: %w", derr))
		}
		return csi.Volume{}, err
	}
	return v, nil
}

// Capacity returns the free and total bytes of the data directory's
// filesystem.
func (b *Backend) Capacity(ctx context.Context) (free, total uint64, err error) {
	if b.space != nil {
		return b.space.Capacity(ctx)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(b.dir, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", b.dir, err)
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), nil
}

// Check reads the metadata store and checks the chunk directory is
// writable, or the storage nodes reachable.
func (b *Backend) Check(ctx context.Context) error {
	if _, err := b.fs.VolumeInfo(ctx, "csi-health-probe"); err != nil && !errors.Is(err, fs.ErrNoVolume) {
		return fmt.Errorf("metadata store: %w", err)
	}
	if b.space != nil {
		return b.space.Check(ctx)
	}
	if err := unix.Access(filepath.Join(b.dir, "chunks"), unix.W_OK); err != nil {
		return fmt.Errorf("chunk store %s: %w", filepath.Join(b.dir, "chunks"), err)
	}
	return nil
}

// Redundancy reports under-replication of a cluster's storage; a local
// store has one copy by design.
func (b *Backend) Redundancy(ctx context.Context) error {
	if b.space != nil {
		return b.space.Redundancy(ctx)
	}
	return nil
}
