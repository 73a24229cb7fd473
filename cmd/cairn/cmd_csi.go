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
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/csi"
	"github.com/cairn-storage/cairn/csi/host"
	"github.com/cairn-storage/cairn/datadir"
)

// csiFlags are the flags of `cairn csi`.
func csiFlags() []cli.Flag {
	hostname, _ := os.Hostname()
	return []cli.Flag{
		&cli.StringFlag{Name: "endpoint", Usage: "CSI endpoint to serve: unix:///PATH (or tcp://HOST:PORT)", EnvVars: []string{"CSI_ENDPOINT"}},
		&cli.StringFlag{Name: "node-id", Usage: "this node's name, as the CO knows it", EnvVars: []string{"KUBE_NODE_NAME", "CAIRN_NODE_ID"}, Value: hostname},
		&cli.StringFlag{Name: "zone", Usage: "topology zone reported by NodeGetInfo (" + csi.TopologyKey + ")", EnvVars: []string{"CAIRN_ZONE"}},
		&cli.StringFlag{Name: "mode", Usage: "services to serve: all, controller or node", Value: "all", EnvVars: []string{"CAIRN_CSI_MODE"}},
		&cli.StringFlag{Name: "data", Usage: "data directory the host opens (default: the global --data)", EnvVars: []string{datadir.EnvVar}},
		&cli.StringFlag{Name: "state-dir", Usage: "where the node records its publications and a started host its socket and log", Value: defaultStateDir(), EnvVars: []string{"CAIRN_CSI_STATE"}},
		&cli.StringFlag{Name: "host", Usage: "endpoint of the cairn host: unix:///PATH or tcp://HOST:PORT; \"none\" for a node without FUSE (NFS only)", DefaultText: "unix://STATE-DIR/host.sock", EnvVars: []string{"CAIRN_CSI_HOST"}},
		&cli.StringFlag{Name: "host-token-file", Usage: "file holding the bearer token of a TCP host", EnvVars: []string{"CAIRN_CSI_HOST_TOKEN_FILE"}},
		&cli.BoolFlag{Name: "spawn-host", Usage: "start a host for --data when none answers on a unix --host", Value: true, EnvVars: []string{"CAIRN_CSI_SPAWN_HOST"}},
		&cli.DurationFlag{Name: "repair-interval", Usage: "how often the node re-attaches dead or missing mounts", Value: 30 * time.Second},
		&cli.StringFlag{Name: "driver-name", Usage: "CSI driver name", Value: csi.DriverName, Hidden: true},
	}
}

func defaultStateDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/cairn-csi"
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "cairn-csi")
	}
	return "cairn-csi-state"
}

func csiCommand() *cli.Command {
	return &cli.Command{
		Name:  "csi",
		Usage: "serve the Kubernetes CSI plugin (controller, node, or both) on --endpoint",
		Description: "The plugin forwards the controller's calls to a cairn host and publishes\n" +
			"volumes at target paths through FUSE mounts that the host serves (or from a\n" +
			"cairn NFS gateway, mounter: nfs). The host is the one process that owns the\n" +
			"data directory; with --spawn-host the plugin starts it when none answers, in\n" +
			"its own session, so mounts outlive a plugin restart. See `cairn csi host`.",
		Flags:       csiFlags(),
		Action:      runCSI,
		Subcommands: []*cli.Command{csiHostCommand()},
	}
}

// dataDirFlag returns --data of the nearest command that set it.
func dataDirFlag(c *cli.Context) string {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet("data") {
			return ctx.String("data")
		}
	}
	return datadir.Default()
}

func runCSI(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("csi: unexpected argument %q (see --help)", c.Args().First())
	}
	if c.String("endpoint") == "" {
		return errors.New("csi: --endpoint is required (e.g. unix:///csi/csi.sock)")
	}
	var ctrl, node bool
	switch c.String("mode") {
	case "all":
		ctrl, node = true, true
	case "controller":
		ctrl = true
	case "node":
		node = true
	default:
		return fmt.Errorf("--mode %q: want all, controller or node", c.String("mode"))
	}
	state := c.String("state-dir")
	hostEP := c.String("host")
	if hostEP == "" {
		hostEP = "unix://" + filepath.Join(state, "host.sock")
	}
	cfg := host.PluginConfig{
		Endpoint: c.String("endpoint"), Name: c.String("driver-name"), Version: version(),
		NodeID: c.String("node-id"), Zone: c.String("zone"), Controller: ctrl, Node: node,
		StateDir: state, RepairInterval: c.Duration("repair-interval"), Logger: slog.Default(),
	}
	if hostEP != "none" {
		cfg.Host = host.ClientConfig{Endpoint: hostEP}
		if f := c.String("host-token-file"); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return fmt.Errorf("--host-token-file: %w", err)
			}
			cfg.Host.Token = strings.TrimSpace(string(b))
		}
		if c.Bool("spawn-host") && strings.HasPrefix(hostEP, "unix:") {
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			cmd := []string{exe, "--log-level", c.String("log-level")}
			if addr := c.String("cluster"); addr != "" {
				// The host is the cluster client; the plugin only forwards.
				cmd = append(cmd, "--cluster", addr, "--tls-dir", c.String("tls-dir"))
				if c.IsSet("meta") {
					cmd = append(cmd, "--meta", c.String("meta"))
				}
			}
			cfg.Host.Spawn = &host.SpawnConfig{
				Command: append(cmd, "csi", "host", "--node-id", cfg.NodeID),
				DataDir: dataDirFlag(c), StateDir: state,
			}
		}
	}
	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	p, err := host.StartPlugin(ctx, cfg)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		slog.Info("csi: stopping the plugin (the host and its mounts keep running)")
	case <-p.Done():
	}
	return p.Stop()
}

func csiHostCommand() *cli.Command {
	hostname, _ := os.Hostname()
	flags := []cli.Flag{
		&cli.StringFlag{Name: "data", Usage: "data directory to own (default: the global --data)", EnvVars: []string{datadir.EnvVar}},
		&cli.StringFlag{Name: "socket", Usage: "unix socket to serve on", Value: filepath.Join(defaultStateDir(), "host.sock"), EnvVars: []string{"CAIRN_CSI_HOST_SOCKET"}},
		&cli.StringFlag{Name: "listen", Usage: "also serve the controller on tcp://HOST:PORT (needs --token-file)", EnvVars: []string{"CAIRN_CSI_HOST_LISTEN"}},
		&cli.StringFlag{Name: "token-file", Usage: "file holding the bearer token TCP clients must send", EnvVars: []string{"CAIRN_CSI_HOST_TOKEN_FILE"}},
		&cli.StringFlag{Name: "node-id", Usage: "this node's name", EnvVars: []string{"KUBE_NODE_NAME", "CAIRN_NODE_ID"}, Value: hostname},
		&cli.BoolFlag{Name: "serve-nfs", Usage: "also serve every volume over NFSv3 (see --nfs-listen)", EnvVars: []string{"CAIRN_CSI_HOST_NFS"}},
	}
	flags = append(flags, nfsFlags()...)
	for _, f := range mountFlags() {
		if f.Names()[0] != "read-only" { // set per mount
			flags = append(flags, f)
		}
	}
	flags = append(flags, observabilityFlags()...)
	return &cli.Command{
		Name:  "host",
		Usage: "own a data directory for the CSI plugin: serve its controller and FUSE mounts",
		Description: "host opens the data directory (only one process may) and serves on --socket\n" +
			"the CSI controller over it and the FUSE mounts the node plugin asks for. It\n" +
			"runs until SIGINT or SIGTERM, then unmounts and flushes. The plugin starts it\n" +
			"itself (--spawn-host); run it yourself to keep it apart from the plugin.",
		Flags:  flags,
		Action: runCSIHost,
	}
}

func runCSIHost(c *cli.Context) error {
	stopObs, err := startDaemon(c)
	if err != nil {
		return err
	}
	defer stopObs()
	cfg := host.Config{
		DataDir: dataDirFlag(c), Socket: c.String("socket"), Listen: c.String("listen"),
		NodeID: c.String("node-id"), Mount: mountOptions(c), Version: version(), Logger: slog.Default(),
	}
	dopts, err := dataOptions(c)
	if err != nil {
		return err
	}
	cfg.Data = dopts
	if f := c.String("token-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
		cfg.Token = strings.TrimSpace(string(b))
	}
	if c.Bool("serve-nfs") {
		cfg.Extra = func(ctx context.Context, d *datadir.Data) (func() error, error) {
			srv, err := newNFSServer(c, d)
			if err != nil {
				return nil, err
			}
			go func() {
				if err := srv.ListenAndServe(); err != nil && ctx.Err() == nil {
					slog.Error("nfs gateway stopped", "err", err)
				}
			}()
			return srv.Close, nil
		}
	}
	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err = host.Run(ctx, cfg)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// version is the version the plugin reports: the main module's, if the
// binary was built from a tagged module, else "dev".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
