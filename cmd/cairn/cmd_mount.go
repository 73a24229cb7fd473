package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"google.golang.org/protobuf/types/known/durationpb"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
	"github.com/cairn-storage/cairn/datadir"
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
		Usage:     "mount a volume (or a snapshot) through FUSE at MOUNTPOINT: by the daemon, or in the foreground",
		ArgsUsage: "VOLUME MOUNTPOINT",
		Description: "When a cairn daemon (cairn server) owns --data, mount asks it for the mount\n" +
			"and returns: the daemon serves it until `cairn unmount MOUNTPOINT` (or its own\n" +
			"stop). With no daemon, mount serves VOLUME in the foreground until SIGINT or\n" +
			"SIGTERM, then flushes every buffered write, unmounts cleanly and exits.\n" +
			"As root it mounts directly with allow_other; otherwise it uses fusermount3.",
		Flags:  append(mountFlags(), observabilityFlags()...),
		Action: mount,
	}
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

// mountRequest is the Mount call the flags ask for.
func mountRequest(c *cli.Context, volume, dir string) (*cairnv1.MountRequest, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("mountpoint %q: %w", dir, err)
	}
	return &cairnv1.MountRequest{
		Volume:        volume,
		Mountpoint:    abs,
		Snapshot:      c.Bool("snapshot"),
		ReadOnly:      c.Bool("read-only"),
		Writeback:     c.Bool("writeback"),
		ShowSnapshots: c.Bool("show-snapshots"),
		AttrTimeout:   durationpb.New(c.Duration("attr-timeout")),
		EntryTimeout:  durationpb.New(c.Duration("entry-timeout")),
		Debug:         c.Bool("fuse-debug"),
	}, nil
}

func mount(c *cli.Context) error {
	if c.NArg() != 2 {
		return fmt.Errorf("mount: want VOLUME and MOUNTPOINT (see --help)")
	}
	req, err := mountRequest(c, c.Args().Get(0), c.Args().Get(1))
	if err != nil {
		return err
	}
	if api, err := client.Find(c.Context, socketPath(c)); err == nil && !clientMode(c) {
		defer api.Close()
		return apiError(mountByDaemon(c, api, req))
	} else if err != nil && !errors.Is(err, client.ErrNoDaemon) {
		return err
	}
	stopObs, err := startDaemon(c)
	if err != nil {
		return err
	}
	defer stopObs()
	return withData(c, func(d *datadir.Data) error {
		return serveLocal(c, d, true, func(api *client.Client) error { return apiError(mountForeground(c, api, req)) })
	})
}

// mountByDaemon asks the running daemon for the mount, which it serves
// from then on.
func mountByDaemon(c *cli.Context, api *client.Client, req *cairnv1.MountRequest) error {
	v, err := api.Health.Version(c.Context, &cairnv1.VersionRequest{})
	if err != nil {
		return err
	}
	m, err := api.Mounts.Mount(c.Context, req)
	if err != nil {
		return err
	}
	fmt.Printf("mounted %s at %s (read-only %v), served by the cairn daemon (pid %d); `cairn unmount %s` unmounts it\n",
		m.GetVolume(), m.GetMountpoint(), m.GetReadOnly(), v.GetPid(), m.GetMountpoint())
	return nil
}

// mountForeground serves the mount in this process until SIGINT/SIGTERM
// or an unmount from outside, then flushes and unmounts.
func mountForeground(c *cli.Context, api *client.Client, req *cairnv1.MountRequest) error {
	m, err := api.Mounts.Mount(c.Context, req)
	if err != nil {
		return err
	}
	slog.Info("mounted (no daemon runs: serving in the foreground until Ctrl-C)", "volume", m.GetVolume(),
		"mountpoint", m.GetMountpoint(), "read-only", m.GetReadOnly())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case s := <-sigs:
			slog.Info("unmounting", "signal", s.String(), "mountpoint", m.GetMountpoint())
			_, err := api.Mounts.Unmount(context.WithoutCancel(c.Context), &cairnv1.UnmountRequest{Mountpoint: m.GetMountpoint(), Lazy: true})
			return err
		case <-c.Context.Done():
			return c.Context.Err()
		case <-tick.C:
			if !mounted(c.Context, api, m.GetMountpoint()) {
				slog.Info("unmounted from outside", "mountpoint", m.GetMountpoint())
				return nil
			}
		}
	}
}

// mounted reports whether the server still holds a mount at dir.
func mounted(ctx context.Context, api *client.Client, dir string) bool {
	resp, err := api.Mounts.ListMounts(ctx, &cairnv1.ListMountsRequest{})
	if err != nil {
		return true // ask again at the next tick
	}
	for _, m := range resp.GetMounts() {
		if m.GetMountpoint() == dir {
			return true
		}
	}
	return false
}
