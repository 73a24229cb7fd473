package main

import (
	"fmt"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
)

func snapshotInfoCommand() *cli.Command {
	return &cli.Command{
		Name:      "info",
		Usage:     "show a snapshot: time, size, bytes unique to it, hooks run",
		ArgsUsage: "VOLUME@NAME",
		Description: "Unique bytes are those of chunks reachable from this snapshot and from no\n" +
			"other snapshot nor live volume: what deleting it and running gc frees.\n" +
			"Computing them walks every snapshot and volume.",
		Flags: []cli.Flag{jsonFlag()},
		Action: func(c *cli.Context) error {
			if err := nArgs(c, 1, 1); err != nil {
				return err
			}
			return withAPI(c, func(api *client.Client) error {
				resp, err := api.Snapshots.GetSnapshot(c.Context, &cairnv1.GetSnapshotRequest{Ref: c.Args().First(), Unique: true})
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printProto(resp)
				}
				printSnapshotInfo(resp)
				return nil
			})
		},
	}
}

// printSnapshotInfo prints a snapshot for a person.
func printSnapshotInfo(r *cairnv1.GetSnapshotResponse) {
	s := r.GetSnapshot()
	fmt.Printf("snapshot:     %s@%s\n", s.GetVolume(), s.GetName())
	fmt.Printf("created:      %s\n", s.GetCreated().AsTime().Local().Format(time.RFC3339))
	if s.GetReceived() != nil {
		fmt.Printf("received:     %s\n", s.GetReceived().AsTime().Local().Format(time.RFC3339))
	}
	if s.GetGroup() != "" {
		fmt.Printf("group:        %s\n", s.GetGroup())
	}
	fmt.Printf("files:        %d\n", s.GetFiles())
	fmt.Printf("size:         %s (%d bytes of file data)\n", humanize.IBytes(s.GetBytes()), s.GetBytes())
	fmt.Printf("unique:       %s (%d bytes, %d chunks; %s on disk)\n", humanize.IBytes(uint64(r.GetUniqueBytes())),
		r.GetUniqueBytes(), r.GetUniqueChunks(), humanize.IBytes(uint64(r.GetUniqueStoredBytes())))
	fmt.Printf("tree:         %s\n", s.GetRoot())
	if len(s.GetLabels()) > 0 {
		fmt.Printf("labels:       %s\n", formatLabels(s.GetLabels()))
	}
	for _, h := range s.GetHooks() {
		status := "ok"
		if h.GetError() != "" {
			status = "FAILED: " + h.GetError()
		}
		fmt.Printf("%-13s %q: %s (%s)\n", h.GetPhase()+"-hook:", h.GetCommand(), status,
			h.GetDuration().AsDuration().Round(time.Millisecond))
	}
}
