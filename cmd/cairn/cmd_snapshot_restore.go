package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
)

func snapshotRestoreCommand() *cli.Command {
	return &cli.Command{
		Name:      "restore",
		Usage:     "roll a volume back to a snapshot, in constant time",
		ArgsUsage: "VOLUME VOLUME@NAME|NAME",
		Description: "The volume's content becomes the snapshot's; changes made since are lost\n" +
			"unless another snapshot holds them. The volume keeps its configuration and\n" +
			"its snapshots. A volume in use is refused, not swapped under its users:\n" +
			"the error names the FUSE mounts and the NFS clients that hold it. Unmount\n" +
			"it (cairn unmount DIR), stop its NFS clients, then restore.",
		Action: func(c *cli.Context) error {
			if err := nArgs(c, 2, 2); err != nil {
				return err
			}
			return withAPI(c, func(api *client.Client) error {
				vol, snap := c.Args().Get(0), c.Args().Get(1)
				if _, err := api.Snapshots.RestoreVolume(c.Context, &cairnv1.RestoreVolumeRequest{Volume: vol, Snapshot: snap}); err != nil {
					return err
				}
				fmt.Printf("restored volume %s to %s\n", vol, snap)
				return nil
			})
		},
	}
}
