package main

import (
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/snapshots"
)

func snapshotPushCommand() *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "send a snapshot to another cairn, transferring only the chunks it lacks",
		ArgsUsage: "VOLUME@NAME --to ADDR",
		Description: "The target runs `cairn snapshot serve-receive --listen ADDR`. The sender\n" +
			"offers the IDs of the objects the snapshot needs in batches, the receiver\n" +
			"answers which it lacks, and only those travel. --base leaves out even the\n" +
			"offers of what a common base snapshot holds.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "HOST:PORT of the receiver", Required: true},
			&cli.StringFlag{Name: "base", Usage: "a snapshot (VOLUME@NAME) the receiver has too"},
			jsonFlag(),
		},
		Action: func(c *cli.Context) error {
			if err := nArgs(c, 1, 1); err != nil {
				return err
			}
			return withManager(c, func(_ *datadir.Data, m *snapshots.Manager) error {
				st, err := m.Push(c.Context, c.Args().First(), c.String("base"), c.String("to"))
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printJSON(st)
				}
				fmt.Printf("pushed %s to %s as %s: %d objects offered, %d sent, %s\n", c.Args().First(), c.String("to"),
					st.Received.Snapshot.Ref(), st.Offered, st.Wanted, humanize.IBytes(uint64(st.Stream.StreamBytes)))
				return nil
			})
		},
	}
}
