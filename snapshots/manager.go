package snapshots

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fs/meta"
)

// Store is what the snapshots package needs of the chunk store: reading
// tree nodes, storing received objects, and walking and deleting chunks
// for garbage collection. chunks.Store satisfies it.
type Store interface {
	chunks.Getter
	chunks.Putter
	chunks.Syncer
	chunks.Statter
	chunks.Walker
	chunks.Deleter
}

// Options tune a Manager. The zero value gives sane defaults.
type Options struct {
	// Logger receives the package's logs; slog.Default() if nil.
	Logger *slog.Logger
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Freeze, if set, flushes and holds the writes of the volumes' other
	// clients (the cluster's other processes) just before the cut; see
	// fs.SnapshotOptions.
	Freeze fs.Freezer
	// HookTimeout bounds each hook; default DefaultHookTimeout.
	HookTimeout time.Duration
	// Shell runs hooks as Shell -c CMD; default "sh".
	Shell string
	// SchedulerTick is how often RunScheduler looks for due snapshots;
	// default 30 seconds.
	SchedulerTick time.Duration
	// Parallel bounds the tree nodes read at once by walks; default 8.
	Parallel int
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HookTimeout <= 0 {
		o.HookTimeout = DefaultHookTimeout
	}
	if o.Shell == "" {
		o.Shell = "sh"
	}
	if o.SchedulerTick <= 0 {
		o.SchedulerTick = 30 * time.Second
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
}

// Manager takes and keeps the snapshots of one filesystem. It is safe
// for concurrent use; a process should have one Manager per filesystem so
// that garbage collection sees every operation in progress.
type Manager struct {
	fs    *fs.FS
	kv    meta.KV
	store Store
	opts  Options
	log   *slog.Logger

	// refMu is held shared by operations that add references to chunks
	// that may be unreferenced (create, restore, clone, the end of a
	// receive) and exclusively by GC while it re-marks and sweeps.
	refMu sync.RWMutex

	pinMu sync.Mutex
	pins  map[chunks.ID]int // objects of receives in progress

	restoreMu sync.Mutex // one restore at a time
}

// New returns a Manager of the snapshots of fsys, whose chunks are in store.
func New(fsys *fs.FS, store Store, opts Options) *Manager {
	opts.setDefaults()
	return &Manager{fs: fsys, kv: fsys.KV(), store: store, opts: opts, log: opts.Logger,
		pins: map[chunks.ID]int{}}
}

// now returns the current time in UTC, rounded to what JSON keeps.
func (m *Manager) now() time.Time { return m.opts.Now().UTC().Round(0) }

// List returns the snapshots of volume (every snapshot if volume is ""),
// ordered by volume, then creation time, then name.
func (m *Manager) List(ctx context.Context, volume string) ([]Snapshot, error) {
	prefix := []byte{keyTag}
	if volume != "" {
		id, err := m.volumeID(ctx, volume)
		if err != nil {
			return nil, err
		}
		prefix = volPrefix(id)
	}
	var out []Snapshot
	err := m.kv.View(ctx, func(r meta.Reader) error {
		out = out[:0]
		return scanRecords(r, prefix, func(s Snapshot) error {
			out = append(out, s)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	sortSnapshots(out)
	return out, nil
}

func sortSnapshots(s []Snapshot) {
	sort.Slice(s, func(i, j int) bool {
		a, b := s[i], s[j]
		if a.Volume != b.Volume {
			return a.Volume < b.Volume
		}
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		return a.Name < b.Name
	})
}

// scanRecords calls fn for every snapshot record under prefix (which
// starts with "S"), skipping the records of volume ID 0.
func scanRecords(r meta.Reader, prefix []byte, fn func(Snapshot) error) error {
	aux := volPrefix(0)
	return r.Scan(prefix, meta.PrefixEnd(prefix), func(k, v []byte) error {
		if len(k) <= len(aux) || string(k[:len(aux)]) == string(aux) {
			return nil
		}
		s, err := decodeRecord(k, v)
		if err != nil {
			return err
		}
		return fn(s)
	})
}

// volumeID returns the ID of a live volume.
func (m *Manager) volumeID(ctx context.Context, volume string) (uint64, error) {
	info, err := m.fs.VolumeInfo(ctx, volume)
	if err != nil {
		return 0, err
	}
	return info.ID, nil
}

// Get returns the snapshot named by ref (VOLUME@NAME). The volume's
// current snapshots come first; a snapshot of a deleted volume of that
// name is found too, unless that is ambiguous.
func (m *Manager) Get(ctx context.Context, ref string) (Snapshot, error) {
	volume, name, err := ParseRef(ref)
	if err != nil {
		return Snapshot{}, err
	}
	return m.get(ctx, volume, name)
}

func (m *Manager) get(ctx context.Context, volume, name string) (Snapshot, error) {
	info, err := m.fs.VolumeInfo(ctx, volume)
	switch {
	case err == nil:
		s, err := m.getByID(ctx, info.ID, name)
		if !errors.Is(err, ErrNotFound) {
			return s, err
		}
	case !errors.Is(err, fs.ErrNoVolume):
		return Snapshot{}, err
	}
	// The volume was deleted (or re-created): look through every record.
	all, err := m.List(ctx, "")
	if err != nil {
		return Snapshot{}, err
	}
	var found []Snapshot
	for _, s := range all {
		if s.Volume == volume && s.Name == name {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return Snapshot{}, fmt.Errorf("snapshot %s@%s: %w", volume, name, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return Snapshot{}, fmt.Errorf("snapshot %s@%s: %d snapshots of deleted volumes have that name: %w", volume, name, len(found), ErrInvalid)
}

func (m *Manager) getByID(ctx context.Context, vol uint64, name string) (Snapshot, error) {
	var s Snapshot
	err := m.kv.View(ctx, func(r meta.Reader) error {
		key := recordKey(vol, name)
		b, err := r.Get(key)
		if errors.Is(err, meta.ErrNotFound) {
			return fmt.Errorf("snapshot %s of volume id %d: %w", name, vol, ErrNotFound)
		} else if err != nil {
			return err
		}
		s, err = decodeRecord(key, b)
		return err
	})
	return s, err
}

// Delete removes the snapshot named by ref. Its chunks are reclaimed by
// the next garbage collection.
func (m *Manager) Delete(ctx context.Context, ref string) error {
	s, err := m.Get(ctx, ref)
	if err != nil {
		return err
	}
	// Its browsing view (cairn mount --snapshot) goes first: a view in use
	// keeps the snapshot.
	if err := m.fs.DeleteTreeVolume(ctx, fs.TreeVolumeName(s.Volume, s.Name)); err != nil {
		return fmt.Errorf("delete snapshot %s: its read-only view: %w", ref, err)
	}
	err = m.kv.Update(ctx, func(tx meta.Txn) error { return tx.Delete(recordKey(s.VolumeID, s.Name)) })
	if err != nil {
		return fmt.Errorf("delete snapshot %s: %w", ref, err)
	}
	m.log.Info("snapshot deleted", "snapshot", s.Ref(), "volume_id", s.VolumeID)
	return nil
}

// putRecords stores new records in one transaction, failing with
// ErrExists if any name is taken, and makes them durable.
func (m *Manager) putRecords(ctx context.Context, recs []Snapshot) error {
	err := m.kv.Update(ctx, func(tx meta.Txn) error {
		for _, s := range recs {
			key := recordKey(s.VolumeID, s.Name)
			if _, err := tx.Get(key); err == nil {
				return fmt.Errorf("snapshot %s: %w", s.Ref(), ErrExists)
			} else if !errors.Is(err, meta.ErrNotFound) {
				return err
			}
			b, err := encodeRecord(s)
			if err != nil {
				return err
			}
			if err := tx.Set(key, b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := m.kv.Sync(ctx); err != nil {
		return fmt.Errorf("sync snapshot records: %w", err)
	}
	return nil
}

// exists reports whether volume ID vol has a snapshot called name.
func (m *Manager) exists(ctx context.Context, vol uint64, name string) (bool, error) {
	_, err := m.getByID(ctx, vol, name)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
