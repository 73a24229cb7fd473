package fs

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"syscall"
	"time"

	"github.com/cairn-storage/cairn/fs/meta"
)

// VolumeConfig is the user-settable configuration of a volume.
type VolumeConfig struct {
	// Quota caps the bytes of file data in the volume; 0 means no cap.
	Quota uint64 `json:"quota,omitempty"`
	// Compress stores the volume's new chunks zstd-compressed.
	Compress bool `json:"compress,omitempty"`
	// Replicas is the replication factor asked for (clusters); 0 = default.
	Replicas int `json:"replicas,omitempty"`
	// Labels are free-form key/value pairs (e.g. set by the CSI driver).
	Labels map[string]string `json:"labels,omitempty"`
	// ReadOnly refuses every change to the volume (EROFS).
	ReadOnly bool `json:"read_only,omitempty"`
}

// VolumeInfo describes a volume.
type VolumeInfo struct {
	ID      uint64    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	VolumeConfig
	// Deleting is set while a deleted volume's keys are being removed.
	Deleting bool `json:"deleting,omitempty"`
	// Hidden marks the read-only view of a snapshot (see OpenTreeVolume):
	// not listed, not writable.
	Hidden bool `json:"hidden,omitempty"`
}

// Usage is what a volume holds.
type Usage struct {
	Bytes  uint64 // bytes of file data (holes excluded)
	Inodes uint64
}

var volumeNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ErrVolumeExists and ErrNoVolume report volume registry errors; both wrap
// an errno so frontends map them like any other error.
var (
	ErrVolumeExists = fmt.Errorf("volume exists: %w", syscall.EEXIST)
	ErrNoVolume     = fmt.Errorf("no such volume: %w", syscall.ENOENT)
)

// CheckVolumeName validates a volume name: 1-128 letters, digits, '.',
// '_' or '-', starting with a letter or digit.
func CheckVolumeName(name string) error {
	if !volumeNameRE.MatchString(name) {
		return fmt.Errorf("volume name %q: want 1-128 of [A-Za-z0-9._-], starting with a letter or digit: %w", name, syscall.EINVAL)
	}
	return nil
}

// CreateVolume creates an empty volume whose root belongs to root and has
// mode 0755.
func (f *FS) CreateVolume(ctx context.Context, name string, cfg VolumeConfig) (VolumeInfo, error) {
	if err := CheckVolumeName(name); err != nil {
		return VolumeInfo{}, err
	}
	info := VolumeInfo{Name: name, Created: f.opts.Now().UTC(), VolumeConfig: cfg}
	err := f.kv.Update(ctx, func(tx meta.Txn) error {
		if err := nameFree(tx, name); err != nil {
			return err
		}
		id, err := nextCounter(tx, keyNextVolume)
		if err != nil {
			return err
		}
		info.ID = id
		if err := putVolumeRecord(tx, info); err != nil {
			return err
		}
		if err := tx.Set(volumeNameKey(name), be64(nil, id)); err != nil {
			return err
		}
		return initVolume(tx, newKeyspace(id), info.Created)
	})
	if err != nil {
		return VolumeInfo{}, err
	}
	f.log.Info("volume created", "volume", name, "id", info.ID, "quota", cfg.Quota)
	return info, nil
}

func initVolume(tx meta.Txn, ks keyspace, now time.Time) error {
	root := &inode{Attr: Attr{Ino: RootIno, Gen: 1, Mode: syscall.S_IFDIR | 0o755, Nlink: 2,
		Atime: now, Mtime: now, Ctime: now, Btime: now}, Parent: RootIno}
	if err := tx.Set(ks.inode(RootIno), root.encode()); err != nil {
		return err
	}
	if err := tx.Set(ks.nextIno(), be64(nil, uint64(RootIno)+1)); err != nil {
		return err
	}
	return putUsage(tx, ks, Usage{Inodes: 1})
}

// nameFree checks that no volume is called name.
func nameFree(r meta.Reader, name string) error {
	_, err := r.Get(volumeNameKey(name))
	switch {
	case err == nil:
		return fmt.Errorf("create volume %q: %w", name, ErrVolumeExists)
	case errors.Is(err, meta.ErrNotFound):
		return nil
	}
	return err
}

// nextCounter increments the counter at key and returns its new value.
func nextCounter(tx meta.Txn, key []byte) (uint64, error) {
	var n uint64
	v, err := tx.Get(key)
	switch {
	case err == nil && len(v) == 8:
		n = binary.BigEndian.Uint64(v)
	case err != nil && !errors.Is(err, meta.ErrNotFound):
		return 0, err
	}
	n++
	return n, tx.Set(key, be64(nil, n))
}

func putVolumeRecord(tx meta.Txn, info VolumeInfo) error {
	b, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("encode volume %q: %w", info.Name, err)
	}
	return tx.Set(volumeRecordKey(info.ID), b)
}

func getVolumeByName(r meta.Reader, name string) (VolumeInfo, error) {
	v, err := r.Get(volumeNameKey(name))
	if errors.Is(err, meta.ErrNotFound) {
		return VolumeInfo{}, fmt.Errorf("volume %q: %w", name, ErrNoVolume)
	} else if err != nil {
		return VolumeInfo{}, err
	}
	if len(v) != 8 {
		return VolumeInfo{}, fmt.Errorf("volume %q: bad id record: %w", name, syscall.EIO)
	}
	return getVolumeByID(r, binary.BigEndian.Uint64(v))
}

func getVolumeByID(r meta.Reader, id uint64) (VolumeInfo, error) {
	b, err := r.Get(volumeRecordKey(id))
	if errors.Is(err, meta.ErrNotFound) {
		return VolumeInfo{}, fmt.Errorf("volume id %d: %w", id, ErrNoVolume)
	} else if err != nil {
		return VolumeInfo{}, err
	}
	var info VolumeInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return VolumeInfo{}, fmt.Errorf("volume id %d: bad record: %v: %w", id, err, syscall.EIO)
	}
	return info, nil
}

// VolumeInfo returns the named volume's description.
func (f *FS) VolumeInfo(ctx context.Context, name string) (info VolumeInfo, err error) {
	err = f.kv.View(ctx, func(r meta.Reader) error {
		info, err = getVolumeByName(r, name)
		return err
	})
	return info, err
}

// VolumeByID returns the description of the volume with the given ID.
func (f *FS) VolumeByID(ctx context.Context, id uint64) (info VolumeInfo, err error) {
	err = f.kv.View(ctx, func(r meta.Reader) error {
		info, err = getVolumeByID(r, id)
		return err
	})
	return info, err
}

// ListVolumes returns every live volume, ordered by name.
func (f *FS) ListVolumes(ctx context.Context) ([]VolumeInfo, error) {
	var out []VolumeInfo
	err := f.kv.View(ctx, func(r meta.Reader) error {
		out = out[:0]
		prefix := []byte("n")
		return r.Scan(prefix, scanEnd(prefix), func(k, _ []byte) error {
			info, err := getVolumeByName(r, string(k[1:]))
			if err != nil {
				return err
			}
			out = append(out, info)
			return nil
		})
	})
	return out, err
}

// UpdateVolume changes a volume's configuration with fn. Lowering the
// quota below the current usage is refused.
func (f *FS) UpdateVolume(ctx context.Context, name string, fn func(*VolumeConfig) error) (VolumeInfo, error) {
	var info VolumeInfo
	err := f.kv.Update(ctx, func(tx meta.Txn) error {
		var err error
		if info, err = getVolumeByName(tx, name); err != nil {
			return err
		}
		if err := fn(&info.VolumeConfig); err != nil {
			return err
		}
		u, err := getUsage(tx, newKeyspace(info.ID))
		if err != nil {
			return err
		}
		if info.Quota != 0 && info.Quota < u.Bytes {
			return fmt.Errorf("quota %d below the %d bytes in use: %w", info.Quota, u.Bytes, syscall.EINVAL)
		}
		return putVolumeRecord(tx, info)
	})
	if err != nil {
		return VolumeInfo{}, err
	}
	f.mu.Lock()
	if v := f.vols[name]; v != nil {
		v.setInfo(info)
	}
	f.mu.Unlock()
	return info, nil
}
