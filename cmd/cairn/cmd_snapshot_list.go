package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
)

func snapshotListCommand() *cli.Command {
	return &cli.Command{
		Name:      "list",
		Usage:     "list the snapshots of a volume, or of every volume",
		ArgsUsage: "[VOLUME]",
		Flags:     []cli.Flag{jsonFlag()},
		Action: func(c *cli.Context) error {
			if err := nArgs(c, 0, 1); err != nil {
				return err
			}
			return withAPI(c, func(api *client.Client) error {
				resp, err := api.Snapshots.ListSnapshots(c.Context, &cairnv1.ListSnapshotsRequest{Volume: c.Args().First()})
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printProto(resp)
				}
				tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SNAPSHOT\tCREATED\tFILES\tSIZE\tGROUP\tLABELS")
				for _, s := range resp.GetSnapshots() {
					group := s.GetGroup()
					if group == "" {
						group = "-"
					}
					fmt.Fprintf(tw, "%s@%s\t%s\t%d\t%s\t%s\t%s\n", s.GetVolume(), s.GetName(),
						s.GetCreated().AsTime().Local().Format(time.DateTime), s.GetFiles(), humanize.IBytes(s.GetBytes()),
						group, formatLabels(s.GetLabels()))
				}
				return tw.Flush()
			})
		},
	}
}
