package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
)

// receiveChunk is the data one ReceiveSnapshot message carries.
const receiveChunk = 256 << 10

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
			return withAPI(c, func(api *client.Client) error {
				pr := newByteProgress("receive", os.Stdin)
				res, err := sendStream(c, api, c.String("volume"), pr)
				pr.done()
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printProto(res)
				}
				s := res.GetSnapshot()
				fmt.Printf("received snapshot %s@%s: %d objects, %s\n", s.GetVolume(), s.GetName(), res.GetStats().GetObjects(),
					humanize.IBytes(uint64(res.GetStats().GetStreamBytes())))
				if res.GetVolumeCreated() {
					fmt.Printf("created volume %s from it\n", s.GetVolume())
				}
				return nil
			})
		},
	}
}

// sendStream sends what r holds to ReceiveSnapshot, volume in the first
// message, and returns what the daemon stored.
func sendStream(c *cli.Context, api *client.Client, volume string, r io.Reader) (*cairnv1.ReceiveSnapshotResponse, error) {
	// Cancelling the call, not closing it, on a read error: a closed call
	// is a complete stream to the daemon.
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	st, err := api.Snapshots.ReceiveSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	for first := true; ; first = false {
		// A fresh buffer per message: gRPC may read a sent message later.
		buf := make([]byte, receiveChunk)
		n, rerr := io.ReadFull(r, buf)
		if rerr != nil && !errors.Is(rerr, io.EOF) && !errors.Is(rerr, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("snapshot receive: read stdin: %w", rerr)
		}
		m := &cairnv1.ReceiveSnapshotRequest{Data: buf[:n]}
		if first {
			m.Volume = volume
		}
		if n > 0 || first {
			if err := st.Send(m); err != nil {
				break // the daemon ended the call: CloseAndRecv says why
			}
		}
		if rerr != nil {
			break
		}
	}
	return st.CloseAndRecv()
}
