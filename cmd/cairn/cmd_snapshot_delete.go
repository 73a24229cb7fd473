package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
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
			return withAPI(c, func(api *client.Client) error {
				for _, ref := range c.Args().Slice() {
					if _, err := api.Snapshots.DeleteSnapshot(c.Context, &cairnv1.DeleteSnapshotRequest{Ref: ref}); err != nil {
						return err
					}
					fmt.Printf("deleted snapshot %s\n", ref)
				}
				return nil
			})
		},
	}
}
