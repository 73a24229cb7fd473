package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/snapshots"
)

func snapshotReceiveCommand() *cli.Command {
	return &cli.Command{
		Name:      "receive",
		Usage:     "store a snapshot stream read from stdin",
		ArgsUsage: "< FILE",
		Description: "Every object is verified as it arrives; the snapshot is recorded only once\n" +
			"the whole stream verified, so a truncated or corrupt stream leaves nothing\n" +
			"but garbage for cairn gc. An incremental stream needs its base snapshot here.\n" +
			"If the volume does not exist it is created from the snapshot with the\n" +
			"sender's configuration; an existing volume is left as it is (use\n" +
			"`cairn snapshot restore` to roll it to the received snapshot).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "volume", Usage: "receive as a snapshot of this volume instead of the sender's"},
			jsonFlag(),
		},
		Action: func(c *cli.Context) error {
			if err := nArgs(c, 0, 0); err != nil {
				return err
			}
			if isTerminal(os.Stdin) {
				return errors.New("snapshot receive: stdin is a terminal; redirect a stream into it")
			}
			return withManager(c, func(_ *datadir.Data, m *snapshots.Manager) error {
				pr := newByteProgress("receive", os.Stdin)
				res, err := m.Receive(c.Context, pr, snapshots.ReceiveOptions{Volume: c.String("volume")})
				pr.done()
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printJSON(res)
				}
				fmt.Printf("received snapshot %s: %d objects, %s\n", res.Snapshot.Ref(), res.Stats.Objects,
					humanize.IBytes(uint64(res.Stats.StreamBytes)))
				if res.VolumeCreated {
					fmt.Printf("created volume %s from it\n", res.Snapshot.Volume)
				}
				return nil
			})
		},
	}
}
