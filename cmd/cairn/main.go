// Command cairn is the command-line interface of cairn: volumes, FUSE
// mounts, the NFS gateway, checks and statistics of a data directory.
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

func main() {
	app := newApp()
	if err := app.Run(interspersed(app, os.Args)); err != nil {
		fmt.Fprintln(os.Stderr, "cairn:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:  "cairn",
		Usage: "content-addressed storage with snapshots, served over FUSE and NFS",
		Description: "cairn stores files as content-addressed chunks (BLAKE3, deduplicated)\n" +
			"and serves volumes through FUSE mounts and an NFSv3 gateway.\n" +
			"Every command works on a data directory: --data or $CAIRN_DATA. When a daemon\n" +
			"(cairn server) owns it, commands are requests to it over its control socket\n" +
			"(DATA/cairn.sock); otherwise they open the directory themselves.",
		Flags:                globalFlags(),
		Before:               setupLogging,
		EnableBashCompletion: true,
		Commands: []*cli.Command{
			serverCommand(),
			volumeCommand(),
			mountCommand(),
			unmountCommand(),
			mountsCommand(),
			statusCommand(),
			eventsCommand(),
			nfsCommand(),
			fsckCommand(),
			statsCommand(),
			snapshotCommand(),
			gcCommand(),
			clusterCommand(),
			csiCommand(),
			k8sCommand(),
		},
	}
}
