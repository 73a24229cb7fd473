package snapshots

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/cairn-storage/cairn/fs"
)

// CreateOptions tune Create and CreateGroup.
type CreateOptions struct {
	// PreHook runs (sh -c) before the cut; if it fails nothing is created.
	PreHook string
	// PostHook runs after the cut, even when the cut failed.
	PostHook string
	// Hooks are hooks the caller ran itself (the CLI runs them in the
	// user's environment, see RunHooks), recorded before those run here.
	Hooks []HookRun
	// Labels are stored with the snapshot.
	Labels map[string]string
}

// ErrPostHook is returned (wrapped) by Create and CreateGroup when the
// snapshot was created but the post-hook failed.
var ErrPostHook = errors.New("snapshot created, but the post-hook failed")

// Create snapshots volume as name. Every write acknowledged before the
// cut is in the snapshot: the pre-hook runs, writes to the volume are
// held while every buffered write is flushed and the cut is taken, then
// released, then the post-hook runs. If the post-hook fails the snapshot
// is returned with an error wrapping ErrPostHook.
func (m *Manager) Create(ctx context.Context, volume, name string, opts CreateOptions) (Snapshot, error) {
	recs, err := m.create(ctx, []string{volume}, name, "", opts)
	if len(recs) == 0 {
		return Snapshot{}, err
	}
	return recs[0], err
}

// CreateGroup snapshots every volume of vols at one instant, each as
// VOLUME@group, all marked as members of group. The hooks run once for
// the group. Either every snapshot is recorded or none is.
func (m *Manager) CreateGroup(ctx context.Context, group string, vols []string, opts CreateOptions) ([]Snapshot, error) {
	return m.create(ctx, vols, group, group, opts)
}

// CheckCreate reports the error Create (or CreateGroup, with several
// volumes) would fail with before cutting: a bad name, a volume missing
// or listed twice, a snapshot of that name already there. A caller that
// runs hooks itself checks first, so bad input runs no hook.
func (m *Manager) CheckCreate(ctx context.Context, vols []string, name string) error {
	if len(vols) == 0 {
		return fmt.Errorf("snapshot %q: no volumes: %w", name, ErrInvalid)
	}
	if err := CheckName(name); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, v := range vols {
		if err := fs.CheckVolumeName(v); err != nil {
			return err
		}
		if seen[v] {
			return fmt.Errorf("volume %q listed twice: %w", v, ErrInvalid)
		}
		seen[v] = true
		info, err := m.fs.VolumeInfo(ctx, v)
		if err != nil {
			return err
		}
		if ok, err := m.exists(ctx, info.ID, name); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("snapshot %s@%s: %w", v, name, ErrExists)
		}
	}
	return nil
}

func (m *Manager) create(ctx context.Context, names []string, name, group string, opts CreateOptions) ([]Snapshot, error) {
	if err := m.CheckCreate(ctx, names, name); err != nil {
		return nil, err
	}
	if err := checkHooks(opts.Hooks); err != nil {
		return nil, err
	}
	var recs []Snapshot
	locked := false
	defer func() {
		if locked {
			m.refMu.RUnlock()
		}
	}()
	hooks := CutHooks{Pre: opts.PreHook, Post: opts.PostHook, Snapshot: name, Volumes: names,
		Shell: m.opts.Shell, Timeout: m.opts.HookTimeout, Logger: m.log}
	ran, err := RunHooks(ctx, hooks, func([]HookRun) error {
		// refMu is held from the cut to the record: until the record
		// exists, only refMu keeps a GC from sweeping tree nodes that the
		// new snapshot shares with deleted ones.
		m.refMu.RLock()
		locked = true
		var cutErr error
		if recs, cutErr = m.cut(ctx, names, name, group); cutErr != nil {
			return fmt.Errorf("snapshot %s: %w", name, cutErr)
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrPostHook) {
		return nil, err
	}
	for i := range recs {
		recs[i].Hooks = append(slices.Clone(opts.Hooks), ran...)
		recs[i].Labels = maps.Clone(opts.Labels)
	}
	if rerr := m.record(ctx, recs); rerr != nil {
		return nil, rerr
	}
	for _, s := range recs {
		m.log.Info("snapshot created", "snapshot", s.Ref(), "root", s.Root.Node.String(),
			"files", s.Usage.Inodes, "bytes", s.Usage.Bytes, "group", s.Group)
	}
	return recs, err
}

// cut takes the snapshot of the volumes and returns their records (not
// yet stored). refMu is held.
func (m *Manager) cut(ctx context.Context, names []string, name, group string) ([]Snapshot, error) {
	var vols []*fs.Volume
	defer func() {
		for _, v := range vols {
			if err := v.Close(context.WithoutCancel(ctx)); err != nil {
				m.log.Error("closing volume after snapshot", "volume", v.Info().Name, "err", err)
			}
		}
	}()
	for _, n := range names {
		v, err := m.fs.OpenVolume(ctx, n)
		if err != nil {
			return nil, err
		}
		vols = append(vols, v)
	}
	cuts, err := m.fs.Snapshot(ctx, vols, fs.SnapshotOptions{Freeze: m.opts.Freeze})
	if err != nil {
		return nil, err
	}
	if len(cuts) != len(vols) {
		return nil, fmt.Errorf("filesystem returned %d cuts for %d volumes", len(cuts), len(vols))
	}
	now := m.now()
	recs := make([]Snapshot, len(cuts))
	for _, c := range cuts {
		i := slices.Index(names, c.Volume.Name) // keep the caller's order
		if i < 0 || recs[i].Name != "" {
			return nil, fmt.Errorf("filesystem returned a cut of volume %q, not asked for", c.Volume.Name)
		}
		recs[i] = Snapshot{
			Name: name, Volume: c.Volume.Name, VolumeID: c.Volume.ID, Created: now,
			Root: c.Root, MaxIno: c.MaxIno, Usage: c.Usage, Group: group,
			Config: cloneConfig(c.Volume.VolumeConfig),
		}
	}
	return recs, nil
}

// record makes the trees durable, then stores the records. refMu is held.
func (m *Manager) record(ctx context.Context, recs []Snapshot) error {
	if err := m.store.Sync(ctx); err != nil {
		return fmt.Errorf("sync snapshot trees: %w", err)
	}
	return m.putRecords(ctx, recs)
}

func cloneConfig(c fs.VolumeConfig) fs.VolumeConfig {
	c.Labels = maps.Clone(c.Labels)
	return c
}
