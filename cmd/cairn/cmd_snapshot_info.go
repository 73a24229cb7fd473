package main

import (
	"fmt"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/snapshots"
)

func snapshotInfoCommand() *cli.Command {
	return &cli.Command{
		Name:      "info",
		Usage:     "show a snapshot: time, size, bytes unique to it, hooks run",
		ArgsUsage: "VOLUME@NAME",
		Description: "Unique bytes are those of chunks reachable from this snapshot and from no\n" +
			"other snapshot nor live volume: what deleting it and running gc frees.\n" +
			"Computing them walks every snapshot and volume.",
		Flags: []cli.Flag{jsonFlag()},
		Action: func(c *cli.Context) error {
			if err := nArgs(c, 1, 1); err != nil {
				return err
			}
			return withManager(c, func(_ *datadir.Data, m *snapshots.Manager) error {
				d, err := m.Info(c.Context, c.Args().First())
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printJSON(d)
				}
				fmt.Printf("snapshot:     %s\n", d.Ref())
				fmt.Printf("created:      %s\n", d.Created.Local().Format(time.RFC3339))
				if d.Received != nil {
					fmt.Printf("received:     %s\n", d.Received.Local().Format(time.RFC3339))
				}
				if d.Group != "" {
					fmt.Printf("group:        %s\n", d.Group)
				}
				fmt.Printf("files:        %d\n", d.Usage.Inodes)
				fmt.Printf("size:         %s (%d bytes of file data)\n", humanize.IBytes(d.Usage.Bytes), d.Usage.Bytes)
				fmt.Printf("unique:       %s (%d bytes, %d chunks; %s on disk)\n", humanize.IBytes(uint64(d.UniqueBytes)),
					d.UniqueBytes, d.UniqueChunks, humanize.IBytes(uint64(d.UniqueStored)))
				fmt.Printf("tree:         %s\n", d.Root.Node)
				if len(d.Labels) > 0 {
					fmt.Printf("labels:       %s\n", formatLabels(d.Labels))
				}
				for _, h := range d.Hooks {
					status := "ok"
					if h.Failed() {
						status = "FAILED: " + h.Error
					}
					fmt.Printf("%-13s %q: %s (%s)\n", h.Phase+"-hook:", h.Command, status, h.Duration.Round(time.Millisecond))
				}
				return nil
			})
		},
	}
}
