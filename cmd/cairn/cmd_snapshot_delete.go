package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/snapshots"
)

func snapshotDeleteCommand() *cli.Command {
	return &cli.Command{
		Name:        "delete",
		Usage:       "delete snapshots (their chunks are reclaimed by cairn gc)",
		ArgsUsage:   "VOLUME@NAME...",
		Description: "Clones and restored volumes keep what they use: deleting the snapshot they\ncame from is safe.",
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return fmt.Errorf("snapshot delete: name at least one VOLUME@NAME")
			}
			return withManager(c, func(_ *datadir.Data, m *snapshots.Manager) error {
				for _, ref := range c.Args().Slice() {
					if err := m.Delete(c.Context, ref); err != nil {
						return err
					}
					fmt.Printf("deleted snapshot %s\n", ref)
				}
				return nil
			})
		},
	}
}
