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
	if len(vols) == 0 {
		return nil, fmt.Errorf("group snapshot %q: no volumes: %w", group, ErrInvalid)
	}
	return m.create(ctx, vols, group, group, opts)
}

func (m *Manager) create(ctx context.Context, names []string, name, group string, opts CreateOptions) ([]Snapshot, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, v := range names {
		if seen[v] {
			return nil, fmt.Errorf("volume %q listed twice: %w", v, ErrInvalid)
		}
		seen[v] = true
		info, err := m.fs.VolumeInfo(ctx, v)
		if err != nil {
			return nil, err
		}
		if ok, err := m.exists(ctx, info.ID, name); err != nil {
			return nil, err
		} else if ok {
			return nil, fmt.Errorf("snapshot %s@%s: %w", v, name, ErrExists)
		}
	}
	env := hookEnv{snapshot: name, volumes: names}
	var hooks []HookRun
	if opts.PreHook != "" {
		h := m.runHook(ctx, "pre", opts.PreHook, env)
		if h.Failed() {
			return nil, fmt.Errorf("snapshot %s not taken: %w", name, hookError(h))
		}
		hooks = append(hooks, h)
	}
	// refMu is held from the cut to the record: until the record exists,
	// only refMu keeps a GC from sweeping tree nodes that the new snapshot
	// shares with deleted ones.
	m.refMu.RLock()
	defer m.refMu.RUnlock()
	recs, cutErr := m.cut(ctx, names, name, group)
	if opts.PostHook != "" {
		env.status = "ok"
		if cutErr != nil {
			env.status = "failed"
		}
		hooks = append(hooks, m.runHook(ctx, "post", opts.PostHook, env))
	}
	if cutErr != nil {
		err := fmt.Errorf("snapshot %s: %w", name, cutErr)
		if len(hooks) > 0 && hooks[len(hooks)-1].Failed() && hooks[len(hooks)-1].Phase == "post" {
			err = errors.Join(err, hookError(hooks[len(hooks)-1]))
		}
		return nil, err
	}
	for i := range recs {
		recs[i].Hooks = hooks
		recs[i].Labels = maps.Clone(opts.Labels)
	}
	if err := m.record(ctx, recs); err != nil {
		return nil, err
	}
	for _, s := range recs {
		m.log.Info("snapshot created", "snapshot", s.Ref(), "root", s.Root.Node.String(),
			"files", s.Usage.Inodes, "bytes", s.Usage.Bytes, "group", s.Group)
	}
	if h := hooks; len(h) > 0 && h[len(h)-1].Phase == "post" && h[len(h)-1].Failed() {
		return recs, fmt.Errorf("%w: %w", ErrPostHook, hookError(h[len(h)-1]))
	}
	return recs, nil
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
