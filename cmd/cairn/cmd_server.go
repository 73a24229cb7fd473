package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fusefs"
)

func serverCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "volume", Usage: "volume to create if missing and to mount with --mount", Value: "default"},
		&cli.StringFlag{Name: "mount", Usage: "also mount --volume here through FUSE"},
		&cli.BoolFlag{Name: "no-nfs", Usage: "do not serve NFS"},
	}
	flags = append(flags, nfsFlags()...)
	flags = append(flags, mountFlags()...)
	flags = append(flags, observabilityFlags()...)
	flags = append(flags, clusterFlags()...)
	flags = append(flags, snapshotServerFlags()...)
	flags = append(flags, etcdFlags()...)
	return &cli.Command{
		Name:  "server",
		Usage: "run a cairn node: the NFS gateway, and optionally a FUSE mount of one volume",
		Description: "server opens the data directory, creates --volume if it does not exist,\n" +
			"serves every volume over NFSv3 and, with --mount, mounts --volume through FUSE.\n" +
			"It runs in the foreground until SIGINT or SIGTERM, then unmounts and flushes.",
		Flags:  flags,
		Action: server,
	}
}

func server(c *cli.Context) error {
	stopObs, err := startDaemon(c)
	if err != nil {
		return err
	}
	defer stopObs()
	return withData(c, func(d *datadir.Data) error {
		name := c.String("volume")
		if _, err := d.FS.CreateVolume(c.Context, name, fs.VolumeConfig{}); err != nil && !errors.Is(err, fs.ErrVolumeExists) {
			return err
		}
		var stops []func() error
		stopAll := func() error {
			var errs []error
			for i := len(stops) - 1; i >= 0; i-- {
				errs = append(errs, stops[i]())
			}
			return errors.Join(errs...)
		}
		m := snapshotManager(d)
		if err := m.Resume(c.Context); err != nil {
			return err
		}
		stopSnap, err := startSnapshotServices(c.Context, m, c.String("receive"), c.Bool("no-snapshot-scheduler"))
		if err != nil {
			return err
		}
		stops = append(stops, stopSnap)
		if dir := c.String("mount"); dir != "" {
			stop, err := mountForServer(c, d, name, dir)
			if err != nil {
				return err
			}
			stops = append(stops, stop)
		}
		idle := make(chan struct{})
		serve := func() error { <-idle; return nil }
		stops = append(stops, func() error { close(idle); return nil })
		if !c.Bool("no-nfs") {
			srv, err := newNFSServer(c, d)
			if err != nil {
				return errors.Join(err, stopAll())
			}
			serve = srv.ListenAndServe
			stops = append(stops, srv.Close)
		}
		return runUntilSignal(c.Context, "server", serve, stopAll)
	})
}

// mountForServer mounts volume name at dir and returns how to unmount it.
func mountForServer(c *cli.Context, d *datadir.Data, name, dir string) (func() error, error) {
	vol, err := d.FS.OpenVolume(c.Context, name)
	if err != nil {
		return nil, err
	}
	opts := mountOptions(c)
	opts.Sync = d.FS.Sync
	opts.Snapshots = newVolumeSnapshots(d, name)
	mt, err := fusefs.Mount(vol, dir, opts)
	if err != nil {
		return nil, errors.Join(err, vol.Close(c.Context))
	}
	slog.Info("mounted", "volume", name, "mountpoint", dir)
	return func() error {
		err := mt.Unmount()
		mt.Wait()
		return errors.Join(err, vol.Close(context.Background()))
	}, nil
}
