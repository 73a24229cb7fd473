package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/snapshots"
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
			return withManager(c, func(_ *datadir.Data, m *snapshots.Manager) error {
				snaps, err := m.List(c.Context, c.Args().First())
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printJSON(snaps)
				}
				tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SNAPSHOT\tCREATED\tFILES\tSIZE\tGROUP\tLABELS")
				for _, s := range snaps {
					group := s.Group
					if group == "" {
						group = "-"
					}
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", s.Ref(), s.Created.Local().Format(time.DateTime),
						s.Usage.Inodes, humanize.IBytes(s.Usage.Bytes), group, formatLabels(s.Labels))
				}
				return tw.Flush()
			})
		},
	}
}

// printJSON prints v as indented JSON on stdout.
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
