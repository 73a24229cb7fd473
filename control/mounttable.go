package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fusefs"
)

// mountTable holds the daemon's FUSE mounts, by mountpoint. A mount ends
// by Unmount or from outside (umount(8)); either way its volume is
// closed and it leaves the table.
type mountTable struct {
	log *slog.Logger
	mu  sync.Mutex
	m   map[string]*mounted
}

// mounted is one live FUSE mount.
type mounted struct {
	info MountEntry
	vol  *fs.Volume
	srv  *fusefs.Server
	done chan struct{} // closed once unmounted and the volume closed
}

// MountEntry describes a mount.
type MountEntry struct {
	Volume, Mountpoint, Owner string
	ReadOnly, Snapshot        bool
	Mounted                   time.Time
}

func newMountTable(log *slog.Logger) *mountTable {
	return &mountTable{log: log, m: map[string]*mounted{}}
}

// add mounts vol at e.Mountpoint with opts and returns the entry as
// stored (absolute mountpoint, time); the table owns vol from then on
// (it is closed if the mount fails).
func (t *mountTable) add(vol *fs.Volume, e MountEntry, opts fusefs.Options) (MountEntry, error) {
	dir, err := filepath.Abs(e.Mountpoint)
	if err != nil {
		return MountEntry{}, errors.Join(fmt.Errorf("mountpoint %q: %w", e.Mountpoint, syscall.EINVAL), vol.Close(context.Background()))
	}
	e.Mountpoint, e.Mounted = dir, time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if old := t.m[dir]; old != nil {
		return MountEntry{}, errors.Join(fmt.Errorf("%s: volume %s is mounted there already: %w", dir, old.info.Volume, syscall.EEXIST),
			vol.Close(context.Background()))
	}
	if err := checkMountpoint(dir); err != nil {
		return MountEntry{}, errors.Join(err, vol.Close(context.Background()))
	}
	srv, err := fusefs.Mount(vol, dir, opts)
	if err != nil {
		return MountEntry{}, errors.Join(err, vol.Close(context.Background()))
	}
	m := &mounted{info: e, vol: vol, srv: srv, done: make(chan struct{})}
	t.m[dir] = m
	go t.watch(m)
	t.log.Info("mounted", "volume", e.Volume, "mountpoint", dir, "read-only", e.ReadOnly, "owner", e.Owner)
	return e, nil
}

// checkMountpoint fails unless dir is a directory (the daemon does not
// make mountpoints: a typo must not create a tree).
func checkMountpoint(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("mountpoint: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("mountpoint %s: %w", dir, syscall.ENOTDIR)
	}
	return nil
}

// watch waits for m's FUSE server to end, however it ends, then closes
// its volume and forgets it.
func (t *mountTable) watch(m *mounted) {
	m.srv.Wait()
	if err := m.vol.Close(context.Background()); err != nil {
		t.log.Error("closing unmounted volume", "volume", m.info.Volume, "mountpoint", m.info.Mountpoint, "err", err)
	}
	t.mu.Lock()
	if t.m[m.info.Mountpoint] == m {
		delete(t.m, m.info.Mountpoint)
	}
	t.mu.Unlock()
	t.log.Info("unmounted", "volume", m.info.Volume, "mountpoint", m.info.Mountpoint)
	close(m.done)
}

// remove unmounts dir and waits until its writes are flushed. A busy
// mount fails with EBUSY, or with lazy is detached from the namespace
// and served until its open files close (remove does not wait for that).
func (t *mountTable) remove(ctx context.Context, dir string, lazy bool) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("mountpoint %q: %w", dir, syscall.EINVAL)
	}
	t.mu.Lock()
	m := t.m[abs]
	t.mu.Unlock()
	if m == nil {
		return fmt.Errorf("%s: no cairn mount of this daemon there: %w", abs, syscall.ENOENT)
	}
	if err := m.srv.Unmount(); err != nil {
		if !lazy {
			return fmt.Errorf("unmount %s: %w (files are open; unmount lazily to detach it)", abs, syscall.EBUSY)
		}
		if derr := detach(abs); derr != nil {
			return fmt.Errorf("unmount %s: %w (lazy unmount: %w)", abs, err, derr)
		}
		return nil
	}
	select {
	case <-m.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// list returns the mounts sorted by mountpoint.
func (t *mountTable) list() []MountEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]MountEntry, 0, len(t.m))
	for _, m := range t.m {
		out = append(out, m.info)
	}
	slices.SortFunc(out, func(a, b MountEntry) int { return strings.Compare(a.Mountpoint, b.Mountpoint) })
	return out
}

// of returns the mounts of volume (its own, not its snapshots' views).
func (t *mountTable) of(volume string) []MountEntry {
	var out []MountEntry
	for _, e := range t.list() {
		if e.Volume == volume && !e.Snapshot {
			out = append(out, e)
		}
	}
	return out
}

// detachWait bounds how long a shutdown waits for the open files of a
// detached (busy) mount to close before closing the stores under it.
const detachWait = 10 * time.Second

// unmountAll unmounts everything, detaching busy mounts (so no stale
// mount is left for the next daemon), and waits for each to finish:
// a detached one for at most detachWait.
func (t *mountTable) unmountAll() error {
	var errs []error
	for _, e := range t.list() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := t.remove(ctx, e.Mountpoint, true); err != nil && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, err)
		}
		cancel()
	}
	t.mu.Lock()
	left := make([]*mounted, 0, len(t.m))
	for _, m := range t.m {
		left = append(left, m)
	}
	t.mu.Unlock()
	for _, m := range left {
		select {
		case <-m.done:
		case <-time.After(detachWait):
			errs = append(errs, fmt.Errorf("detached mount %s still has open files after %s", m.info.Mountpoint, detachWait))
		}
	}
	return errors.Join(errs...)
}
