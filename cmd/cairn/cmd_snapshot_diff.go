package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
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
			return withManager(c, func(_ *datadir.Data, m *snapshots.Manager) error {
				res, err := m.Diff(c.Context, c.Args().Get(0), c.Args().Get(1))
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printJSON(res)
				}
				for _, ch := range res.Changes {
					switch ch.Type {
					case snapshots.Added:
						fmt.Printf("+ %s\n", ch.Path)
					case snapshots.Removed:
						fmt.Printf("- %s\n", ch.Path)
					case snapshots.Modified:
						fmt.Printf("M %s\n", ch.Path)
					case snapshots.Renamed:
						fmt.Printf("R %s -> %s\n", ch.From, ch.Path)
					}
				}
				return nil
			})
		},
	}
}
