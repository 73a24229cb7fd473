package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
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
			return withAPI(c, func(api *client.Client) error {
				req := &cairnv1.CloneSnapshotRequest{Snapshot: c.Args().Get(0), Name: c.Args().Get(1)}
				vol, err := api.Snapshots.CloneSnapshot(c.Context, req)
				if err != nil {
					return err
				}
				fmt.Printf("created volume %s (id %d) from %s\n", vol.GetName(), vol.GetId(), req.GetSnapshot())
				return nil
			})
		},
	}
}
