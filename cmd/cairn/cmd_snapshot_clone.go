package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/snapshots"
)

func snapshotCloneCommand() *cli.Command {
	return &cli.Command{
		Name:      "clone",
		Usage:     "create a volume from a snapshot, in constant time",
		ArgsUsage: "VOLUME@NAME NEWVOLUME",
		Description: "The clone starts with the snapshot's content and its volume's\n" +
			"configuration (quota, compression, replicas, labels). Nothing is copied\n" +
			"until the clone changes, and file data never is.",
		Action: func(c *cli.Context) error {
			if err := nArgs(c, 2, 2); err != nil {
				return err
			}
			return withManager(c, func(_ *datadir.Data, m *snapshots.Manager) error {
				info, err := m.Clone(c.Context, c.Args().Get(0), c.Args().Get(1))
				if err != nil {
					return err
				}
				fmt.Printf("created volume %s (id %d) from %s\n", info.Name, info.ID, c.Args().Get(0))
				return nil
			})
		},
	}
}
