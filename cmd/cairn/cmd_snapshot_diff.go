package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
	"github.com/cairn-storage/cairn/snapshots"
)

func snapshotDiffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "list what changed between two snapshots, or since a snapshot",
		ArgsUsage: "VOLUME@NAME VOLUME@NAME2|VOLUME",
		Description: "Lines are '+ PATH' (added), '- PATH' (removed), 'M PATH' (content,\n" +
			"attributes other than atime and ctime, or xattrs changed) and\n" +
			"'R OLD -> NEW' (renamed: the same inode at another path; the contents of a\n" +
			"renamed directory are not listed again). With a VOLUME as the second\n" +
			"argument, the live volume is compared (it is cut, not recorded).",
		Flags: []cli.Flag{jsonFlag()},
		Action: func(c *cli.Context) error {
			if err := nArgs(c, 2, 2); err != nil {
				return err
			}
			return withAPI(c, func(api *client.Client) error {
				req := &cairnv1.DiffSnapshotsRequest{From: c.Args().Get(0), To: c.Args().Get(1)}
				if !c.Bool("json") {
					// Print as the batches stream in: a big diff shows at once.
					return recvDiff(c, api, req, func(m *cairnv1.DiffSnapshotsResponse) { printChanges(m.GetChanges()) })
				}
				// One message: every change, then the stream's summary.
				all := &cairnv1.DiffSnapshotsResponse{Changes: []*cairnv1.Change{}}
				err := recvDiff(c, api, req, func(m *cairnv1.DiffSnapshotsResponse) {
					all.Changes = append(all.Changes, m.GetChanges()...)
					if m.GetSummary() != nil {
						all.Summary = m.GetSummary()
					}
				})
				if err != nil {
					return err
				}
				return printProto(all)
			})
		},
	}
}

// recvDiff calls fn with each message of the diff's stream.
func recvDiff(c *cli.Context, api *client.Client, req *cairnv1.DiffSnapshotsRequest, fn func(*cairnv1.DiffSnapshotsResponse)) error {
	st, err := api.Snapshots.DiffSnapshots(c.Context, req)
	if err != nil {
		return err
	}
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		fn(m)
	}
}

// printChanges prints changes one a line.
func printChanges(changes []*cairnv1.Change) {
	for _, ch := range changes {
		switch ch.GetType() {
		case snapshots.Added:
			fmt.Printf("+ %s\n", ch.GetPath())
		case snapshots.Removed:
			fmt.Printf("- %s\n", ch.GetPath())
		case snapshots.Modified:
			fmt.Printf("M %s\n", ch.GetPath())
		case snapshots.Renamed:
			fmt.Printf("R %s -> %s\n", ch.GetFrom(), ch.GetPath())
		}
	}
}
