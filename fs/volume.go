package fs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"github.com/cairn-storage/cairn/fs/meta"
)

// Volume is one filesystem tree. Its methods are safe for concurrent use.
type Volume struct {
	fs *FS
	ks keyspace

	infoMu sync.RWMutex
	info   VolumeInfo

	mu    sync.Mutex
	users int           // OpenVolume calls not yet Closed
	files map[Ino]*file // files with handles or buffered data

	gate sync.RWMutex // see gate.go

	io *ioCounters // the FS's counters of this volume ID, set by openVolume

	allocMu  sync.Mutex
	nextIno  uint64 // next number of the reserved range
	inoLimit uint64 // end of the reserved range
}

// inoBatch is how many inode numbers a Volume reserves at once, so that
// concurrent creators rarely touch the shared counter.
const inoBatch = 256

// OpenVolume returns the named volume, ready for use. Every OpenVolume
// must be paired with a Close; a volume in use cannot be deleted.
func (f *FS) OpenVolume(ctx context.Context, name string) (*Volume, error) {
	info, err := f.VolumeInfo(ctx, name)
	if err != nil {
		return nil, err
	}
	return f.openVolume(ctx, info)
}

// openVolume returns the Volume of info, shared by all its users.
func (f *FS) openVolume(ctx context.Context, info VolumeInfo) (*Volume, error) {
	name := info.Name
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.vols[name]
	if v == nil || v.Info().ID != info.ID {
		v = &Volume{fs: f, ks: newKeyspace(info.ID), info: info, files: map[Ino]*file{}, io: f.io.counters(info.ID)}
		f.vols[name] = v
	}
	v.mu.Lock()
	v.users++
	first := v.users == 1
	v.mu.Unlock()
	if first {
		release := v.hold()
		err := v.reclaimOrphans(ctx)
		release()
		if err != nil {
			f.log.Error("reclaiming orphans", "volume", name, "err", err)
		}
	}
	return v, nil
}

// Close flushes the volume's buffered writes and releases it.
func (v *Volume) Close(ctx context.Context) error {
	release := v.hold()
	err := v.flushAll(ctx)
	release()
	v.mu.Lock()
	v.users--
	v.mu.Unlock()
	return err
}

// Info returns the volume's description.
func (v *Volume) Info() VolumeInfo {
	v.infoMu.RLock()
	defer v.infoMu.RUnlock()
	return v.info
}

func (v *Volume) setInfo(info VolumeInfo) {
	v.infoMu.Lock()
	v.info = info
	v.infoMu.Unlock()
}

// DeleteVolume removes a volume and all its metadata. Its chunks are
// reclaimed by garbage collection. A volume open in this process is busy.
func (f *FS) DeleteVolume(ctx context.Context, name string) error {
	if err := f.forget(name); err != nil {
		return err
	}
	var info VolumeInfo
	err := f.kv.Update(ctx, func(tx meta.Txn) error {
		var err error
		if info, err = getVolumeByName(tx, name); err != nil {
			return err
		}
		info.Deleting = true
		if err := putVolumeRecord(tx, info); err != nil {
			return err
		}
		return tx.Delete(volumeNameKey(name))
	})
	if err != nil {
		return err
	}
	return f.finishDelete(ctx, info)
}

// forget drops the open state of volume name, which must not be in use.
func (f *FS) forget(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.vols[name]
	if v == nil {
		return nil
	}
	v.mu.Lock()
	busy := v.users > 0
	v.mu.Unlock()
	if busy {
		return fmt.Errorf("volume %q is in use (mounted or served): %w", name, syscall.EBUSY)
	}
	delete(f.vols, name)
	return nil
}

// finishDelete removes the keys of a volume already unnamed.
func (f *FS) finishDelete(ctx context.Context, info VolumeInfo) error {
	if err := f.purgePrefix(ctx, newKeyspace(info.ID).all()); err != nil {
		return fmt.Errorf("delete volume %q: %w", info.Name, err)
	}
	if err := f.kv.Update(ctx, func(tx meta.Txn) error { return tx.Delete(volumeRecordKey(info.ID)) }); err != nil {
		return err
	}
	f.io.drop(info.ID)
	f.log.Info("volume deleted", "volume", info.Name, "id", info.ID)
	return nil
}

// ResumeDeletes finishes volume deletions a crash interrupted.
func (f *FS) ResumeDeletes(ctx context.Context) error {
	var pending []VolumeInfo
	err := f.kv.View(ctx, func(r meta.Reader) error {
		prefix := []byte("v")
		return r.Scan(prefix, scanEnd(prefix), func(k, _ []byte) error {
			if len(k) != 9 {
				return nil
			}
			info, err := getVolumeByID(r, binary.BigEndian.Uint64(k[1:]))
			if err == nil && info.Deleting {
				pending = append(pending, info)
			}
			return err
		})
	})
	if err != nil {
		return err
	}
	for _, info := range pending {
		if err := f.finishDelete(ctx, info); err != nil {
			return err
		}
	}
	return nil
}

// purgeBatch bounds the keys deleted by one transaction.
const purgeBatch = 2000

// purgePrefix deletes every key under prefix, in transactions of bounded size.
func (f *FS) purgePrefix(ctx context.Context, prefix []byte) error {
	end := scanEnd(prefix)
	for {
		n := 0
		err := f.kv.Update(ctx, func(tx meta.Txn) error {
			n = 0
			var keys [][]byte
			err := tx.Scan(prefix, end, func(k, _ []byte) error {
				keys = append(keys, append([]byte(nil), k...))
				if len(keys) == purgeBatch {
					return meta.ErrStop
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			n = len(keys)
			return nil
		})
		if err != nil {
			return err
		}
		if n < purgeBatch {
			return nil
		}
	}
}

// allocIno returns a fresh inode number.
func (v *Volume) allocIno(ctx context.Context) (Ino, error) {
	v.allocMu.Lock()
	defer v.allocMu.Unlock()
	if v.nextIno == v.inoLimit {
		var start uint64
		err := v.fs.kv.Update(ctx, func(tx meta.Txn) error {
			b, err := tx.Get(v.ks.nextIno())
			if err != nil {
				return fmt.Errorf("inode counter: %w", err)
			}
			if len(b) != 8 {
				return fmt.Errorf("inode counter of %d bytes: %w", len(b), syscall.EIO)
			}
			start = binary.BigEndian.Uint64(b)
			return tx.Set(v.ks.nextIno(), be64(nil, start+inoBatch))
		})
		if err != nil {
			return 0, err
		}
		v.nextIno, v.inoLimit = start, start+inoBatch
	}
	ino := v.nextIno
	v.nextIno++
	return Ino(ino), nil
}

func getUsage(r meta.Reader, ks keyspace) (Usage, error) {
	b, err := r.Get(ks.usage())
	if errors.Is(err, meta.ErrNotFound) {
		return Usage{}, nil
	} else if err != nil {
		return Usage{}, err
	}
	if len(b) != 16 {
		return Usage{}, fmt.Errorf("usage record of %d bytes: %w", len(b), syscall.EIO)
	}
	return Usage{Bytes: binary.BigEndian.Uint64(b), Inodes: binary.BigEndian.Uint64(b[8:])}, nil
}

func putUsage(tx meta.Txn, ks keyspace, u Usage) error {
	return tx.Set(ks.usage(), be64(be64(nil, u.Bytes), u.Inodes))
}

// Usage returns what the volume holds.
func (v *Volume) Usage(ctx context.Context) (u Usage, err error) {
	err = v.fs.kv.View(ctx, func(r meta.Reader) error {
		u, err = getUsage(r, v.ks)
		return err
	})
	return u, err
}
