package nfsgw

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"syscall"

	"github.com/cairn-storage/cairn/fs"
)

// export is an exported volume in use.
type export struct {
	Export // options; Volume is the real name, never "*"
	id     uint64
	vol    *fs.Volume
	parent *export // of a snapshot view: the export whose .snapshots shows it
}

// exportTable opens exported volumes on first use and finds them by the
// volume ID a file handle carries.
type exportTable struct {
	fsys     *fs.FS
	configs  map[string]Export
	wildcard *Export
	snaps    Snapshots // nil: no .snapshots directories

	mu     sync.Mutex
	byName map[string]*export
	byID   map[uint64]*export
}

func newExportTable(fsys *fs.FS, exports []Export, snaps Snapshots) *exportTable {
	t := &exportTable{fsys: fsys, configs: map[string]Export{}, snaps: snaps,
		byName: map[string]*export{}, byID: map[uint64]*export{}}
	for _, e := range exports {
		if e.Volume == "*" {
			w := e
			t.wildcard = &w
			continue
		}
		t.configs[e.Volume] = e
	}
	return t
}

// config returns the export options of the named volume.
func (t *exportTable) config(name string) (Export, bool) {
	if e, ok := t.configs[name]; ok {
		return e, true
	}
	if t.wildcard != nil && fs.CheckVolumeName(name) == nil {
		e := *t.wildcard
		e.Volume = name
		return e, true
	}
	return Export{}, false
}

// byVolumeName returns the export of the named volume, opening it; a
// volume that is missing or not exported is ENOENT.
func (t *exportTable) byVolumeName(ctx context.Context, name string) (*export, error) {
	cfg, ok := t.config(name)
	if !ok {
		return nil, fmt.Errorf("volume %q is not exported: %w", name, syscall.ENOENT)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.byName[name]; e != nil {
		return e, nil
	}
	vol, err := t.fsys.OpenVolume(ctx, name)
	if err != nil {
		return nil, err
	}
	e := &export{Export: cfg, id: vol.Info().ID, vol: vol}
	t.byName[name], t.byID[e.id] = e, e
	return e, nil
}

// byVolumeID returns the export of the volume with the given ID; a
// volume that is gone or no longer exported is ESTALE.
func (t *exportTable) byVolumeID(ctx context.Context, id uint64) (*export, error) {
	t.mu.Lock()
	e := t.byID[id]
	t.mu.Unlock()
	if e != nil {
		return e, nil
	}
	info, err := t.fsys.VolumeByID(ctx, id)
	if errors.Is(err, syscall.ENOENT) {
		return nil, fmt.Errorf("volume id %d: %w", id, syscall.ESTALE)
	} else if err != nil {
		return nil, err
	}
	if info.Hidden {
		e, err = t.viewByName(ctx, info.Name)
	} else {
		e, err = t.byVolumeName(ctx, info.Name)
	}
	if errors.Is(err, syscall.ENOENT) {
		return nil, fmt.Errorf("volume %q: %w", info.Name, syscall.ESTALE)
	} else if err != nil {
		return nil, err
	}
	if e.id != id {
		return nil, fmt.Errorf("volume %q was recreated: %w", info.Name, syscall.ESTALE)
	}
	return e, nil
}

// list returns the options of every export, by volume name, for MOUNT
// EXPORT: the wildcard stands for each existing volume. On error the
// explicit exports are still returned.
func (t *exportTable) list(ctx context.Context) ([]Export, error) {
	var out []Export
	for _, e := range t.configs {
		out = append(out, e)
	}
	var err error
	if t.wildcard != nil {
		var vols []fs.VolumeInfo
		vols, err = t.fsys.ListVolumes(ctx)
		for _, v := range vols {
			if _, ok := t.configs[v.Name]; !ok {
				e := *t.wildcard
				e.Volume = v.Name
				out = append(out, e)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Volume < out[j].Volume })
	return out, err
}

// close releases every opened volume.
func (t *exportTable) close(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	for name, e := range t.byName {
		if err := e.vol.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close volume %q: %w", name, err))
		}
	}
	t.byName, t.byID = map[string]*export{}, map[uint64]*export{}
	return errors.Join(errs...)
}
