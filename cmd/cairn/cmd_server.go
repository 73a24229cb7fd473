package main

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/nfsgw"
)

func serverCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "volume", Usage: "volume to create if missing and to mount with --mount (--volume= for none)", Value: "default"},
		&cli.StringFlag{Name: "mount", Usage: "also mount --volume here through FUSE"},
		&cli.BoolFlag{Name: "no-nfs", Usage: "do not serve NFS"},
		&cli.BoolFlag{Name: "no-ui", Usage: "do not serve the web dashboard on the --metrics address (/ui/)"},
		&cli.BoolFlag{Name: "http-tls", Usage: "serve the --metrics address over TLS with the --tls-dir bundle; the dashboard admits clients with a certificate of the cluster CA without a login"},
	}
	flags = append(flags, nfsFlags()...)
	flags = append(flags, mountFlags()...)
	flags = append(flags, observabilityFlags()...)
	flags = append(flags, clusterFlags()...)
	flags = append(flags, snapshotServerFlags()...)
	flags = append(flags, etcdFlags()...)
	flags = append(flags, apiFlags()...)
	return &cli.Command{
		Name:  "server",
		Usage: "run the node daemon: own the data, serve the control API, NFS and FUSE mounts",
		Description: "server is the one process per node that owns the data directory (or, with the\n" +
			"global --cluster, is a gateway of a cluster). It serves the control API on\n" +
			"DATA/cairn.sock (mode 0600; --socket-group for 0660), and on TCP with\n" +
			"--api-listen (mutual TLS with --tls-dir, or the --api-token-file token): every\n" +
			"other cairn command, the CSI driver and the dashboard are its clients. It\n" +
			"creates --volume if it does not exist, serves every volume over NFSv3 (by\n" +
			"default to this host's clients only, root squashed: see --export and\n" +
			"--nfs-listen) and, with --mount, mounts --volume through FUSE; `cairn mount`\n" +
			"asks it for more mounts.\n" +
			"It runs in the foreground until SIGINT or SIGTERM, then stops the API, flushes,\n" +
			"unmounts, closes the stores and logs \"stopped\". A server started while another\n" +
			"is stopping waits for the data directory (--lock-wait).",
		Flags:  flags,
		Action: server,
	}
}

// server runs the node until a signal, then logs "stopped" once every
// store is closed and the data directory unlocked: a supervisor that sees
// it may start the next server at once.
func server(c *cli.Context) error {
	catchStop() // from here on a signal stops the server cleanly
	if err := setMemoryLimit(c.String("memory-limit")); err != nil {
		return err
	}
	var stopping time.Time
	err := withData(c, func(d *datadir.Data) error {
		// Metrics listen only once the data directory is ours and stop
		// before it is released: a restart that waits for the directory
		// then finds the port free.
		mux, stopObs, err := startHTTP(c)
		if err != nil {
			return err
		}
		defer stopObs()
		return serveNode(c, d, mux, &stopping)
	})
	if err == nil && !stopping.IsZero() {
		slog.Info("stopped", "what", "server", "took", time.Since(stopping).Round(time.Millisecond))
	}
	return err
}

// serveNode creates the volume and serves the node until a signal: the
// control API, the snapshot services, the --mount FUSE mount and NFS. It
// sets *stopping when it starts to stop. mux, if not nil, is the HTTP
// address's: the dashboard is added to it.
func serveNode(c *cli.Context, d *datadir.Data, mux *http.ServeMux, stopping *time.Time) error {
	name := c.String("volume")
	if name == "" && c.String("mount") != "" {
		return errors.New("--mount needs --volume: the volume to mount")
	}
	if name != "" {
		if _, err := d.FS.CreateVolume(c.Context, name, fs.VolumeConfig{}); err != nil && !errors.Is(err, fs.ErrVolumeExists) {
			return err
		}
	}
	var stops []func() error
	stopAll := func() error {
		*stopping = time.Now()
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
	cfg := controlConfig(c, d, m, false)
	nfs, err := nodeNFS(c, d, &cfg)
	if err != nil {
		return err
	}
	if nfs != nil {
		cfg.NFS = nfsClients{srv: nfs}
	}
	var ui *webUI
	if mux != nil && !c.Bool("no-ui") {
		if ui, err = newWebUI(c, mux); err != nil {
			return err
		}
		cfg.Dashboard = ui.loginURL
	}
	if node := clusterNode(c); node != nil {
		bundle := c.String("tls-dir")
		if clientMode(c) {
			bundle = clientBundle(c)
		}
		admin, err := newClusterAdmin(node, bundle)
		if err != nil {
			return err
		}
		stops = append(stops, admin.Close)
		cfg.Cluster = admin
	}
	srv := control.New(cfg)
	stops = append(stops, srv.Close) // unmount what the API mounted, after the API stopped
	stopSnap, err := startSnapshotServices(c.Context, m, c.String("receive"), c.Bool("no-snapshot-scheduler"))
	if err != nil {
		return errors.Join(err, stopAll())
	}
	stops = append(stops, stopSnap)
	if dir := c.String("mount"); dir != "" {
		req, err := mountRequest(c, name, dir)
		if err == nil {
			_, err = srv.MountVolume(c.Context, req, control.OwnerServer)
		}
		if err != nil {
			return errors.Join(err, stopAll())
		}
	}
	stopAPI, err := serveAPI(c, srv)
	if err != nil {
		return errors.Join(err, stopAll())
	}
	stops = append(stops, stopAPI)
	if ui != nil {
		stopUI, err := ui.serve(c)
		if err != nil {
			return errors.Join(err, stopAll())
		}
		stops = append(stops, stopUI)
	}
	idle := make(chan struct{})
	serve := func() error { <-idle; return nil }
	stops = append(stops, func() error { close(idle); return nil })
	if nfs != nil {
		serve = nfs.ListenAndServe
		stops = append(stops, nfs.Close)
	}
	return runUntilSignal(c.Context, "server", serve, stopAll)
}

// nodeNFS makes the node's NFS gateway (nil with --no-nfs), sharing the
// snapshot views of the control server cfg describes.
func nodeNFS(c *cli.Context, d *datadir.Data, cfg *control.Config) (*nfsgw.Server, error) {
	if c.Bool("no-nfs") {
		return nil, nil
	}
	return newNFSServer(c, d, control.NewSnapshotViews(cfg.FS, cfg.Snapshots))
}
