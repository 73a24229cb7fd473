package main

import (
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
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
			return withAPI(c, func(api *client.Client) error {
				req := &cairnv1.PushSnapshotRequest{Snapshot: c.Args().First(), Base: c.String("base"), Address: c.String("to")}
				st, err := api.Snapshots.PushSnapshot(c.Context, req)
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printProto(st)
				}
				got := st.GetReceived().GetSnapshot()
				fmt.Printf("pushed %s to %s as %s@%s: %d objects offered, %d sent, %s\n", req.GetSnapshot(), req.GetAddress(),
					got.GetVolume(), got.GetName(), st.GetOffered(), st.GetWanted(), humanize.IBytes(uint64(st.GetStream().GetStreamBytes())))
				return nil
			})
		},
	}
}
