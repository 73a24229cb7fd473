package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/nfsgw"
)

const exportUsage = "export spec VOLUME[,OPTION...] (repeatable); VOLUME may be * for every volume;\n" +
	"\toptions: ro, rw, root_squash, all_squash, anonuid=N, anongid=N, allow=CIDR[|CIDR...]"

func nfsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "nfs-listen", Usage: "NFSv3 and MOUNT address", Value: ":2049", EnvVars: []string{"CAIRN_NFS_LISTEN"}},
		&cli.StringFlag{Name: "portmapper", Usage: "also serve a portmapper (rpcbind v2) here, e.g. :111, so clients need no port options"},
		&cli.StringSliceFlag{Name: "export", Usage: exportUsage, Value: cli.NewStringSlice("*")},
	}
}

func nfsCommand() *cli.Command {
	return &cli.Command{
		Name:  "nfs",
		Usage: "serve volumes over NFSv3 (each at /VOLUME) in the foreground",
		Description: "Clients mount with e.g.\n" +
			"  mount -t nfs -o vers=3,proto=tcp,port=2049,mountport=2049 HOST:/VOLUME /mnt\n" +
			"or, with --portmapper :111, simply mount -t nfs -o vers=3 HOST:/VOLUME /mnt.\n" +
			"File handles stay valid across restarts: their key is kept in the data directory.",
		Flags:  append(nfsFlags(), observabilityFlags()...),
		Action: serveNFSCommand,
	}
}

func serveNFSCommand(c *cli.Context) error {
	stopObs, err := startObservability(c)
	if err != nil {
		return err
	}
	defer stopObs()
	return withData(c, func(d *datadir.Data) error {
		srv, err := newNFSServer(c, d, control.NewSnapshotViews(d.FS, snapshotManager(d)))
		if err != nil {
			return err
		}
		return runUntilSignal(c.Context, "nfs", srv.ListenAndServe, srv.Close)
	})
}

// newNFSServer configures the gateway from the flags.
func newNFSServer(c *cli.Context, d *datadir.Data, views control.SnapshotViews) (*nfsgw.Server, error) {
	fsys := d.FS
	var exports []nfsgw.Export
	for _, spec := range c.StringSlice("export") {
		e, err := parseExport(spec)
		if err != nil {
			return nil, err
		}
		exports = append(exports, e)
	}
	secret, err := fsys.Secret(c.Context, "nfs-handles")
	if err != nil {
		return nil, err
	}
	srv, err := nfsgw.New(fsys, nfsgw.Config{
		Exports:        exports,
		Secret:         secret,
		Logger:         slog.Default(),
		Registerer:     prometheus.DefaultRegisterer,
		Addr:           c.String("nfs-listen"),
		PortmapperAddr: c.String("portmapper"),
		Snapshots:      views,
	})
	if err != nil {
		return nil, err
	}
	slog.Info("serving NFSv3", "addr", c.String("nfs-listen"), "portmapper", c.String("portmapper"), "exports", len(exports))
	return srv, nil
}

// parseExport reads VOLUME[,OPTION...].
func parseExport(spec string) (nfsgw.Export, error) {
	parts := strings.Split(spec, ",")
	e := nfsgw.Export{Volume: strings.TrimPrefix(parts[0], "/")}
	for _, opt := range parts[1:] {
		key, val, _ := strings.Cut(opt, "=")
		var err error
		switch key {
		case "ro":
			e.ReadOnly = true
		case "rw":
			e.ReadOnly = false
		case "root_squash":
			e.RootSquash = true
		case "all_squash":
			e.AllSquash = true
		case "anonuid", "anongid":
			var n uint64
			if n, err = strconv.ParseUint(val, 10, 32); err == nil {
				if key == "anonuid" {
					e.AnonUID = uint32(n)
				} else {
					e.AnonGID = uint32(n)
				}
			}
		case "allow":
			for _, cidr := range strings.Split(val, "|") {
				var p netip.Prefix
				if p, err = netip.ParsePrefix(cidr); err != nil {
					break
				}
				e.AllowedNets = append(e.AllowedNets, p)
			}
		default:
			err = errors.New("unknown option")
		}
		if err != nil {
			return e, fmt.Errorf("--export %q: option %q: %v (%s)", spec, opt, err, exportUsage)
		}
	}
	return e, nil
}
