package csi

import (
	"context"
	"errors"
	"time"
)

// Backend is what the controller needs of cairn: volumes, snapshots and
// the capacity of the store. Package csi/apibackend implements it over
// the control API of the node daemon, which owns the data (a data
// directory, or a cluster membership).
//
// Errors: every method reports a missing volume or snapshot with an error
// wrapping ErrNotFound, a name already taken with ErrExists, a volume in
// use with ErrBusy, bad arguments with ErrInvalid and a full store with
// ErrNoSpace. Everything a method returns without error is durable.
type Backend interface {
	Volumes
	Snapshots
	Storage
}

// Volumes manages cairn volumes.
type Volumes interface {
	// CreateVolume creates an empty volume; ErrExists if name is taken.
	CreateVolume(ctx context.Context, name string, spec VolumeSpec) (Volume, error)
	// GetVolume describes a volume.
	GetVolume(ctx context.Context, name string) (Volume, error)
	// ListVolumes returns every volume, ordered by name.
	ListVolumes(ctx context.Context) ([]Volume, error)
	// UpdateVolume changes a volume's spec with fn; a quota below the
	// bytes in use is refused (ErrInvalid).
	UpdateVolume(ctx context.Context, name string, fn func(*VolumeSpec) error) (Volume, error)
	// DeleteVolume deletes a volume; ErrBusy while it is mounted. The
	// volume's snapshots stay.
	DeleteVolume(ctx context.Context, name string) error
	// CheckVolume reads the volume's metadata and root: nil if they are
	// reachable.
	CheckVolume(ctx context.Context, name string) error
}

// Snapshots manages snapshots and O(1) clones.
type Snapshots interface {
	// CreateSnapshot snapshots volume as name (ErrExists if the volume
	// has a snapshot called name).
	CreateSnapshot(ctx context.Context, volume, name string, labels map[string]string) (Snapshot, error)
	// CreateGroupSnapshot snapshots every volume of volumes at one
	// instant, each as VOLUME@group; all or none are created.
	CreateGroupSnapshot(ctx context.Context, group string, volumes []string, labels map[string]string) ([]Snapshot, error)
	// ListSnapshots returns every snapshot.
	ListSnapshots(ctx context.Context) ([]Snapshot, error)
	// DeleteSnapshot deletes the snapshot with the given ID (VOLUME@NAME).
	DeleteSnapshot(ctx context.Context, id string) error
	// CloneSnapshot creates volume name holding the snapshot's content,
	// in constant time, with the given spec.
	CloneSnapshot(ctx context.Context, id, name string, spec VolumeSpec) (Volume, error)
	// CloneVolume creates volume name holding the current content of
	// volume src, in constant time, with the given spec.
	CloneVolume(ctx context.Context, src, name string, spec VolumeSpec) (Volume, error)
}

// Storage reports on the store as a whole.
type Storage interface {
	// Capacity returns the bytes available for new data and the total
	// size of the filesystem holding the store.
	Capacity(ctx context.Context) (free, total uint64, err error)
	// Check returns nil if the metadata and chunk stores are usable.
	Check(ctx context.Context) error
	// Redundancy returns nil while new data gets every replica asked
	// for, or why it is under-replicated.
	Redundancy(ctx context.Context) error
}

// VolumeSpec is the configuration of a volume the driver sets.
type VolumeSpec struct {
	// Quota caps the volume's bytes; 0 means no cap.
	Quota    uint64
	Compress bool
	// Replicas is the replication factor asked for; 0 means the default.
	Replicas int
	Labels   map[string]string
}

// Volume describes a cairn volume.
type Volume struct {
	Name    string
	Created time.Time
	Spec    VolumeSpec
	// Used is the bytes of file data the volume holds.
	Used uint64
}

// Snapshot describes a snapshot of one volume.
type Snapshot struct {
	// ID is VOLUME@NAME.
	ID     string
	Volume string // the source volume's name
	Name   string
	// Group is the group snapshot it belongs to; "" if none.
	Group   string
	Created time.Time
	// Bytes is what the volume held at the cut.
	Bytes  uint64
	Labels map[string]string
}

// Errors a Backend wraps; see Backend.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrBusy     = errors.New("in use")
	ErrInvalid  = errors.New("invalid argument")
	ErrNoSpace  = errors.New("no space left")
)
