package main

import (
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

	"github.com/cairn-storage/cairn/cluster/pki"
	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/csi"
	"github.com/cairn-storage/cairn/csi/apibackend"
	"github.com/cairn-storage/cairn/csi/plugin"
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
		&cli.StringFlag{Name: "data", Usage: "data directory of the node daemon (default: the global --data)", EnvVars: []string{datadir.EnvVar}},
		&cli.StringFlag{Name: "state-dir", Usage: "where the node records its publications, and a daemon it started its output", Value: defaultStateDir(), EnvVars: []string{"CAIRN_CSI_STATE"}},
		&cli.StringFlag{Name: "daemon", Usage: "control API of the node daemon (cairn server): unix:///PATH or tcp://HOST:PORT; \"none\" for a node without FUSE (NFS only)", DefaultText: "unix://DATA/" + control.SocketName, EnvVars: []string{"CAIRN_CSI_DAEMON"}},
		&cli.StringFlag{Name: "daemon-token-file", Usage: "file holding the bearer token of a TCP daemon", EnvVars: []string{"CAIRN_CSI_DAEMON_TOKEN_FILE"}},
		&cli.StringFlag{Name: "daemon-tls-dir", Usage: "bundle of the cluster CA (ca.crt, node.crt, node.key) to call a TCP daemon with mutual TLS", EnvVars: []string{"CAIRN_CSI_DAEMON_TLS_DIR"}},
		&cli.BoolFlag{Name: "spawn-daemon", Usage: "start `cairn server` for --data when no daemon answers on a unix --daemon", Value: true, EnvVars: []string{"CAIRN_CSI_SPAWN_DAEMON"}},
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
		Description: "The plugin is a client of the node daemon (cairn server), the one process\n" +
			"that owns the data: the controller creates volumes and snapshots through its\n" +
			"control API, and the node publishes volumes at target paths through FUSE\n" +
			"mounts the daemon serves (or from a cairn NFS gateway, mounter: nfs). With\n" +
			"--spawn-daemon the plugin starts the daemon when none answers, in its own\n" +
			"session, so mounts outlive a plugin restart.",
		Flags:  csiFlags(),
		Action: runCSI,
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

// csiModes reads --mode: whether to serve the controller and the node.
func csiModes(mode string) (ctrl, node bool, err error) {
	switch mode {
	case "all":
		return true, true, nil
	case "controller":
		return true, false, nil
	case "node":
		return false, true, nil
	}
	return false, false, fmt.Errorf("--mode %q: want all, controller or node", mode)
}

func runCSI(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("csi: unexpected argument %q (see --help)", c.Args().First())
	}
	if c.String("endpoint") == "" {
		return errors.New("csi: --endpoint is required (e.g. unix:///csi/csi.sock)")
	}
	ctrl, node, err := csiModes(c.String("mode"))
	if err != nil {
		return err
	}
	cfg := plugin.Config{
		Endpoint: c.String("endpoint"), Name: c.String("driver-name"), Version: version(),
		NodeID: c.String("node-id"), Zone: c.String("zone"), Controller: ctrl, Node: node,
		StateDir: c.String("state-dir"), RepairInterval: c.Duration("repair-interval"), Logger: slog.Default(),
	}
	if cfg.Daemon, err = csiDaemon(c); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	p, err := plugin.Start(ctx, cfg)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		slog.Info("csi: stopping the plugin (the daemon and its mounts keep running)")
	case <-p.Done():
	}
	return p.Stop()
}

// csiDaemon reads how to reach (and start) the node daemon; a zero
// Config for --daemon none.
func csiDaemon(c *cli.Context) (apibackend.Config, error) {
	ep := c.String("daemon")
	if ep == "" {
		ep = "unix://" + control.SocketPath(dataDirFlag(c))
	}
	if ep == "none" {
		return apibackend.Config{}, nil
	}
	cfg := apibackend.Config{Endpoint: ep}
	if f := c.String("daemon-token-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return cfg, fmt.Errorf("--daemon-token-file: %w", err)
		}
		cfg.Token = strings.TrimSpace(string(b))
	}
	if dir := c.String("daemon-tls-dir"); dir != "" {
		b, err := pki.LoadBundle(dir)
		if err != nil {
			return cfg, fmt.Errorf("--daemon-tls-dir: %w", err)
		}
		cfg.TLS = b.ClientTLS()
	}
	if c.Bool("spawn-daemon") && strings.HasPrefix(ep, "unix:") {
		spawn, err := csiSpawn(c)
		if err != nil {
			return cfg, err
		}
		cfg.Spawn = spawn
	}
	return cfg, nil
}

// csiSpawn says how to start the node daemon: `cairn server` on --data
// (or, with --cluster, as a client of the cluster), without NFS (the
// node mounts through FUSE) and without creating a volume (the CSI
// controller makes them). A client of a cluster takes no scheduled
// snapshots: the cluster's servers do.
func csiSpawn(c *cli.Context) (*apibackend.SpawnConfig, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := []string{exe, "--log-level", c.String("log-level")}
	if c.Bool("log-json") {
		cmd = append(cmd, "--log-json")
	}
	args := []string{"--no-nfs", "--volume="}
	if addr := c.String("cluster"); addr != "" {
		cmd = append(cmd, "--cluster", addr, "--tls-dir", c.String("tls-dir"))
		args = append(args, "--no-snapshot-scheduler")
	}
	if c.IsSet("meta") {
		cmd = append(cmd, "--meta", c.String("meta"))
	}
	return &apibackend.SpawnConfig{Command: cmd, DataDir: dataDirFlag(c), StateDir: c.String("state-dir"), Args: args}, nil
}

// version is the version the plugin reports: the main module's, if the
// binary was built from a tagged module, else "dev".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
