package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fusefs"
	"github.com/cairn-storage/cairn/nfsgw"
	"github.com/cairn-storage/cairn/snapshots"
)

func mountFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "read-only", Aliases: []string{"ro"}, Usage: "mount read-only"},
		&cli.BoolFlag{Name: "snapshot", Usage: "VOLUME is a snapshot, VOLUME@NAME: mount its read-only view"},
		&cli.BoolFlag{Name: "show-snapshots", Usage: "list the .snapshots directory in the volume's root (it is reachable by name either way)"},
		&cli.DurationFlag{Name: "attr-timeout", Usage: "how long the kernel caches attributes (negative: never)", Value: 0, DefaultText: "1s"},
		&cli.DurationFlag{Name: "entry-timeout", Usage: "how long the kernel caches names (negative: never)", Value: 0, DefaultText: "1s"},
		&cli.BoolFlag{Name: "writeback", Usage: "let the kernel buffer writes (faster small writes; close-to-open still holds)"},
		&cli.BoolFlag{Name: "fuse-debug", Usage: "log every FUSE request"},
		&cli.StringFlag{Name: "memory-limit", Usage: "soft memory limit of the process (Go GOMEMLIMIT)", Value: "400MiB"},
	}
}

func mountCommand() *cli.Command {
	return &cli.Command{
		Name:      "mount",
		Usage:     "serve a volume through FUSE at MOUNTPOINT (in the foreground)",
		ArgsUsage: "VOLUME MOUNTPOINT",
		Description: "mount serves VOLUME at MOUNTPOINT until interrupted (SIGINT or SIGTERM),\n" +
			"then flushes every buffered write, unmounts cleanly and exits.\n" +
			"As root it mounts directly with allow_other; otherwise it uses fusermount3.",
		Flags:  append(mountFlags(), observabilityFlags()...),
		Action: mount,
	}
}

func mountOptions(c *cli.Context) fusefs.Options {
	return fusefs.Options{
		ReadOnly:      c.Bool("read-only"),
		AttrTimeout:   c.Duration("attr-timeout"),
		EntryTimeout:  c.Duration("entry-timeout"),
		Writeback:     c.Bool("writeback"),
		Debug:         c.Bool("fuse-debug"),
		Logger:        slog.Default(),
		ShowSnapshots: c.Bool("show-snapshots"),
	}
}

// dataSnapshots opens snapshots as read-only views, for the .snapshots
// directories of FUSE mounts and NFS exports.
type dataSnapshots struct {
	fs *fs.FS
	m  *snapshots.Manager
}

var _ nfsgw.Snapshots = dataSnapshots{}

func newDataSnapshots(d *datadir.Data) dataSnapshots {
	return dataSnapshots{fs: d.FS, m: snapshotManager(d)}
}

// List returns the snapshots of volume.
func (s dataSnapshots) List(ctx context.Context, volume string) ([]nfsgw.SnapshotRef, error) {
	all, err := s.m.List(ctx, volume)
	if err != nil {
		return nil, err
	}
	refs := make([]nfsgw.SnapshotRef, 0, len(all))
	for _, snap := range all {
		refs = append(refs, nfsgw.SnapshotRef{Name: snap.Name, Created: snap.Created})
	}
	return refs, nil
}

// Open opens the read-only view of snapshot name of volume.
func (s dataSnapshots) Open(ctx context.Context, volume, name string) (*fs.Volume, error) {
	snap, err := s.m.Get(ctx, volume+"@"+name)
	if errors.Is(err, snapshots.ErrNotFound) || errors.Is(err, snapshots.ErrInvalid) {
		return nil, fmt.Errorf("%w: %w", err, syscall.ENOENT)
	} else if err != nil {
		return nil, err
	}
	return s.fs.OpenTreeVolume(ctx, fs.TreeVolumeName(snap.Volume, snap.Name), snap.Root, snap.MaxIno)
}

// volumeSnapshots is one volume's snapshots, for its FUSE mount.
type volumeSnapshots struct {
	d      dataSnapshots
	volume string
}

var _ fusefs.Snapshots = volumeSnapshots{}

func newVolumeSnapshots(d *datadir.Data, volume string) volumeSnapshots {
	return volumeSnapshots{d: newDataSnapshots(d), volume: volume}
}

// List returns the volume's snapshots.
func (s volumeSnapshots) List(ctx context.Context) ([]fusefs.SnapshotRef, error) {
	refs, err := s.d.List(ctx, s.volume)
	out := make([]fusefs.SnapshotRef, 0, len(refs))
	for _, r := range refs {
		out = append(out, fusefs.SnapshotRef{Name: r.Name, Created: r.Created})
	}
	return out, err
}

// Open opens the read-only view of snapshot name.
func (s volumeSnapshots) Open(ctx context.Context, name string) (*fs.Volume, error) {
	return s.d.Open(ctx, s.volume, name)
}

func mount(c *cli.Context) error {
	if c.NArg() != 2 {
		return fmt.Errorf("mount: want VOLUME and MOUNTPOINT (see --help)")
	}
	name, dir := c.Args().Get(0), c.Args().Get(1)
	stopObs, err := startDaemon(c)
	if err != nil {
		return err
	}
	defer stopObs()
	return withData(c, func(d *datadir.Data) error {
		vol, err := openMountVolume(c, d, name)
		if err != nil {
			return err
		}
		opts := mountOptions(c)
		opts.ReadOnly = opts.ReadOnly || c.Bool("snapshot")
		opts.Sync = d.FS.Sync
		if !c.Bool("snapshot") {
			opts.Snapshots = newVolumeSnapshots(d, name)
		}
		mt, err := fusefs.Mount(vol, dir, opts)
		if err != nil {
			return errors.Join(err, vol.Close(c.Context))
		}
		slog.Info("mounted", "volume", name, "mountpoint", dir, "read-only", opts.ReadOnly)
		err = serveUntilSignal(c.Context, mt)
		return errors.Join(err, vol.Close(context.Background()))
	})
}

// openMountVolume opens the volume to mount: a volume, or with --snapshot
// the read-only view of snapshot VOLUME@NAME.
func openMountVolume(c *cli.Context, d *datadir.Data, name string) (*fs.Volume, error) {
	if !c.Bool("snapshot") {
		return d.FS.OpenVolume(c.Context, name)
	}
	m := snapshotManager(d)
	s, err := m.Get(c.Context, name)
	if err != nil {
		return nil, err
	}
	return d.FS.OpenTreeVolume(c.Context, fs.TreeVolumeName(s.Volume, s.Name), s.Root, s.MaxIno)
}

// serveUntilSignal waits for SIGINT/SIGTERM or an external unmount, then
// unmounts.
func serveUntilSignal(ctx context.Context, mt *fusefs.Server) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	go func() { mt.Wait(); close(done) }()
	select {
	case s := <-sigs:
		slog.Info("unmounting", "signal", s.String(), "mountpoint", mt.Dir())
		if err := mt.Unmount(); err != nil {
			// Files are still open: detach the mount from the namespace and
			// keep serving the open files until the kernel lets go.
			slog.Warn("mount busy; detaching it, serving open files until they close", "mountpoint", mt.Dir(), "err", err)
			if derr := syscall.Unmount(mt.Dir(), syscall.MNT_DETACH); derr != nil {
				return fmt.Errorf("unmount %s: %w (lazy unmount: %v)", mt.Dir(), err, derr)
			}
		}
		<-done
	case <-done:
		slog.Info("unmounted from outside", "mountpoint", mt.Dir())
	case <-ctx.Done():
		return errors.Join(ctx.Err(), mt.Unmount())
	}
	return nil
}

// startDaemon applies --memory-limit and starts /metrics (and pprof) for
// a long-running command; the returned function stops what it started.
func startDaemon(c *cli.Context) (func(), error) {
	if err := setMemoryLimit(c.String("memory-limit")); err != nil {
		return nil, err
	}
	return startObservability(c)
}

func setMemoryLimit(s string) error {
	if s == "" || s == "0" {
		return nil
	}
	n, err := parseBytes(s)
	if err != nil {
		return fmt.Errorf("--memory-limit %q: %w", s, err)
	}
	debug.SetMemoryLimit(int64(n))
	return nil
}
