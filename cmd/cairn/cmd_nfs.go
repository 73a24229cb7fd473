package main

import (
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/nfsgw"
)

const exportUsage = "export spec (repeatable): " + nfsgw.ExportSyntax

func nfsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "nfs-listen", Usage: "NFSv3 and MOUNT address", EnvVars: []string{"CAIRN_NFS_LISTEN"},
			DefaultText: "127.0.0.1:2049; :2049 (every interface) when every --export names its networks with allow="},
		&cli.StringFlag{Name: "portmapper", Usage: "also serve a portmapper (rpcbind v2) here, e.g. :111, so clients need no port options"},
		&cli.GenericFlag{Name: "export", Usage: exportUsage, Value: &exportFlag{}, DefaultText: "*"},
	}
}

func nfsCommand() *cli.Command {
	return &cli.Command{
		Name:  "nfs",
		Usage: "serve volumes over NFSv3 (each at /VOLUME) in the foreground",
		Description: "Clients mount with e.g.\n" +
			"  mount -t nfs -o vers=3,proto=tcp,port=2049,mountport=2049 HOST:/VOLUME /mnt\n" +
			"or, with --portmapper :111, simply mount -t nfs -o vers=3 HOST:/VOLUME /mnt.\n" +
			"By default every volume is exported read-write with root squashed (uid 0 acts\n" +
			"as 65534) to the clients that reach 127.0.0.1:2049, this host's; to serve others,\n" +
			"name them: --export '*,rw,allow=10.0.0.0/8' listens on :2049. The log says\n" +
			"at start what is exported to whom.\n" +
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
	exports := exportsOf(c)
	secret, err := fsys.Secret(c.Context, "nfs-handles")
	if err != nil {
		return nil, err
	}
	addr := c.String("nfs-listen")
	if addr == "" {
		addr = nfsgw.DefaultAddr(exports)
	}
	srv, err := nfsgw.New(fsys, nfsgw.Config{
		Exports:        exports,
		Secret:         secret,
		Logger:         slog.Default(),
		Registerer:     prometheus.DefaultRegisterer,
		Addr:           addr,
		PortmapperAddr: c.String("portmapper"),
		Snapshots:      views,
	})
	if err != nil {
		return nil, err
	}
	slog.Info("serving NFSv3", "addr", addr, "portmapper", c.String("portmapper"), "exports", len(exports))
	return srv, nil
}

// exportsOf returns the exports of --export: every volume, with the
// default options, if none is given.
func exportsOf(c *cli.Context) []nfsgw.Export {
	if f, ok := c.Generic("export").(*exportFlag); ok && len(f.exports) > 0 {
		return f.exports
	}
	return []nfsgw.Export{{Volume: "*"}}
}

// exportFlag collects --export specs, each whole: a spec holds commas,
// which a string slice flag splits into separate values (so "web,ro"
// exported two volumes, web and ro, both read-write).
type exportFlag struct {
	specs   []string
	exports []nfsgw.Export
}

// Set parses one --export.
func (f *exportFlag) Set(spec string) error {
	e, err := nfsgw.ParseExport(spec)
	if err != nil {
		return err
	}
	f.specs, f.exports = append(f.specs, spec), append(f.exports, e)
	return nil
}

// String lists the specs given.
func (f *exportFlag) String() string { return strings.Join(f.specs, " ") }
