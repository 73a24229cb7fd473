package snapshots

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fs/meta"
)

// resolveFor reads a snapshot given as VOLUME@NAME, or as NAME alone
// meaning a snapshot of volume.
func (m *Manager) resolveFor(ctx context.Context, volume, snap string) (Snapshot, error) {
	if !strings.Contains(snap, "@") {
		snap = volume + "@" + snap
	}
	return m.Get(ctx, snap)
}

// Restore replaces the content of volume with the snapshot snap
// (VOLUME@NAME, or NAME for a snapshot of volume itself) in O(1). The
// volume must not be in use (EBUSY). Its configuration is kept; its
// snapshots stay its snapshots. Changes since the snapshot are lost
// unless another snapshot holds them.
//
// The filesystem gives a restored volume a new internal ID, and records
// are keyed by volume ID, so Restore moves the volume's records to the
// new ID. An intent record makes that step survive a crash: Resume
// finishes it.
func (m *Manager) Restore(ctx context.Context, volume, snap string) (fs.VolumeInfo, error) {
	s, err := m.resolveFor(ctx, volume, snap)
	if err != nil {
		return fs.VolumeInfo{}, err
	}
	m.restoreMu.Lock()
	defer m.restoreMu.Unlock()
	old, err := m.fs.VolumeInfo(ctx, volume)
	if err != nil {
		return fs.VolumeInfo{}, err
	}
	intent, err := json.Marshal(restoreIntent{OldID: old.ID, Snapshot: s.Ref()})
	if err != nil {
		return fs.VolumeInfo{}, err
	}
	if err := m.kv.Update(ctx, func(tx meta.Txn) error { return tx.Set(auxKey(auxRestore, volume), intent) }); err != nil {
		return fs.VolumeInfo{}, fmt.Errorf("restore %s: %w", volume, err)
	}
	m.refMu.RLock()
	info, err := m.fs.RestoreVolume(ctx, volume, s.Root, s.MaxIno)
	m.refMu.RUnlock()
	if err != nil {
		// Nothing changed: drop the intent (Resume would too).
		if derr := m.finishRestore(context.WithoutCancel(ctx), volume); derr != nil {
			m.log.Error("dropping restore intent", "volume", volume, "err", derr)
		}
		return fs.VolumeInfo{}, fmt.Errorf("restore %s to %s: %w", volume, s.Ref(), err)
	}
	if err := m.finishRestore(ctx, volume); err != nil {
		return info, fmt.Errorf("restore %s to %s: done, but moving its snapshot records failed (run again or Resume): %w", volume, s.Ref(), err)
	}
	m.log.Info("volume restored", "volume", volume, "snapshot", s.Ref(), "old_id", old.ID, "new_id", info.ID)
	return info, nil
}

// restoreIntent is stored while a restore is in progress.
type restoreIntent struct {
	OldID    uint64 `json:"old_id"`
	Snapshot string `json:"snapshot"`
}

// finishRestore moves the records of the volume's old ID to its current
// ID (if it changed) and deletes the intent. It is idempotent.
func (m *Manager) finishRestore(ctx context.Context, volume string) error {
	var in restoreIntent
	err := m.kv.View(ctx, func(r meta.Reader) error {
		b, err := r.Get(auxKey(auxRestore, volume))
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &in)
	})
	if errors.Is(err, meta.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	newID := in.OldID
	if info, err := m.fs.VolumeInfo(ctx, volume); err == nil {
		newID = info.ID
	} else if !errors.Is(err, fs.ErrNoVolume) {
		return err
	}
	return m.moveRecords(ctx, volume, in.OldID, newID)
}

// moveBatch bounds the records moved by one transaction.
const moveBatch = 1000

// moveRecords rekeys the records of volume ID from to volume ID to, then
// deletes the restore intent of volume.
func (m *Manager) moveRecords(ctx context.Context, volume string, from, to uint64) error {
	for {
		done := false
		err := m.kv.Update(ctx, func(tx meta.Txn) error {
			var recs []Snapshot
			if from != to {
				prefix := volPrefix(from)
				err := scanRecords(tx, prefix, func(s Snapshot) error {
					recs = append(recs, s)
					if len(recs) == moveBatch {
						return meta.ErrStop
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			for _, s := range recs {
				if err := tx.Delete(recordKey(from, s.Name)); err != nil {
					return err
				}
				s.VolumeID = to
				b, err := encodeRecord(s)
				if err != nil {
					return err
				}
				if err := tx.Set(recordKey(to, s.Name), b); err != nil {
					return err
				}
			}
			done = len(recs) < moveBatch
			if done {
				return tx.Delete(auxKey(auxRestore, volume))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// Resume finishes restores interrupted by a crash. Call it once after
// opening, before serving.
func (m *Manager) Resume(ctx context.Context) error {
	var vols []string
	prefix := auxKey(auxRestore, "")
	err := m.kv.View(ctx, func(r meta.Reader) error {
		return r.Scan(prefix, meta.PrefixEnd(prefix), func(k, _ []byte) error {
			vols = append(vols, string(k[len(prefix):]))
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("resume restores: %w", err)
	}
	m.restoreMu.Lock()
	defer m.restoreMu.Unlock()
	for _, v := range vols {
		if err := m.finishRestore(ctx, v); err != nil {
			return fmt.Errorf("resume restore of %s: %w", v, err)
		}
		m.log.Info("finished an interrupted restore", "volume", v)
	}
	return nil
}

// Clone creates volume name whose content is the snapshot snap, in O(1):
// nothing is copied until the clone changes, and file data never is. The
// clone gets the snapshot's volume configuration.
func (m *Manager) Clone(ctx context.Context, snap, name string) (fs.VolumeInfo, error) {
	s, err := m.Get(ctx, snap)
	if err != nil {
		return fs.VolumeInfo{}, err
	}
	m.refMu.RLock()
	defer m.refMu.RUnlock()
	info, err := m.fs.CreateVolumeFromTree(ctx, name, cloneConfig(s.Config), s.Root, s.MaxIno)
	if err != nil {
		return fs.VolumeInfo{}, fmt.Errorf("clone %s as %s: %w", s.Ref(), name, err)
	}
	m.log.Info("volume cloned", "snapshot", s.Ref(), "volume", name, "id", info.ID)
	return info, nil
}
