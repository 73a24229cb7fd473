package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/snapshots"
)

func snapshotRestoreCommand() *cli.Command {
	return &cli.Command{
		Name:      "restore",
		Usage:     "roll a volume back to a snapshot, in constant time",
		ArgsUsage: "VOLUME VOLUME@NAME|NAME",
		Description: "The volume's content becomes the snapshot's; changes made since are lost\n" +
			"unless another snapshot holds them. The volume keeps its configuration and\n" +
			"its snapshots. It must not be mounted (the server must not be serving it).",
		Action: func(c *cli.Context) error {
			if err := nArgs(c, 2, 2); err != nil {
				return err
			}
			return withManager(c, func(_ *datadir.Data, m *snapshots.Manager) error {
				vol, snap := c.Args().Get(0), c.Args().Get(1)
				if _, err := m.Restore(c.Context, vol, snap); err != nil {
					return err
				}
				fmt.Printf("restored volume %s to %s\n", vol, snap)
				return nil
			})
		},
	}
}
