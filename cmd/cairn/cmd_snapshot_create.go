package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/snapshots"
)

func snapshotCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "snapshot a volume, or a group of volumes at one instant",
		ArgsUsage: "VOLUME NAME | --group NAME VOLUME...",
		Description: "create runs --pre-hook (sh -c; if it fails, nothing is taken), holds new\n" +
			"writes to the volumes while every buffered write is flushed and the cut is\n" +
			"taken, releases them, then runs --post-hook (even if the cut failed).\n" +
			"Hooks see CAIRN_SNAPSHOT, CAIRN_VOLUMES (space-separated), CAIRN_HOOK\n" +
			"(pre or post) and, in the post-hook, CAIRN_SNAPSHOT_STATUS (ok or failed).\n" +
			"With --group, every VOLUME is cut at the same instant as VOLUME@NAME.\n" +
			"Exit status 1 if the post-hook failed (the snapshot is kept).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "group", Usage: "take a group snapshot NAME of every VOLUME given"},
			&cli.StringFlag{Name: "pre-hook", Usage: "command to run before the cut, e.g. to freeze the application"},
			&cli.StringFlag{Name: "post-hook", Usage: "command to run after the cut, e.g. to thaw it"},
			&cli.StringSliceFlag{Name: "label", Usage: "KEY=VALUE to store with the snapshot (repeatable)"},
			jsonFlag(),
		},
		Action: snapshotCreate,
	}
}

func snapshotCreate(c *cli.Context) error {
	group := c.String("group")
	if group == "" {
		if err := nArgs(c, 2, 2); err != nil {
			return err
		}
	} else if c.NArg() < 1 {
		return fmt.Errorf("snapshot create --group %s: name at least one VOLUME", group)
	}
	labels, err := parseLabels(c.StringSlice("label"))
	if err != nil {
		return err
	}
	opts := snapshots.CreateOptions{PreHook: c.String("pre-hook"), PostHook: c.String("post-hook"), Labels: labels}
	return withManager(c, func(_ *datadir.Data, m *snapshots.Manager) error {
		start := time.Now()
		var snaps []snapshots.Snapshot
		var err error
		if group == "" {
			var s snapshots.Snapshot
			s, err = m.Create(c.Context, c.Args().Get(0), c.Args().Get(1), opts)
			if s.Name != "" {
				snaps = append(snaps, s)
			}
		} else {
			snaps, err = m.CreateGroup(c.Context, group, c.Args().Slice(), opts)
		}
		if err != nil && !errors.Is(err, snapshots.ErrPostHook) {
			return err
		}
		if c.Bool("json") {
			if jerr := printJSON(snaps); jerr != nil {
				return jerr
			}
		} else {
			for _, s := range snaps {
				fmt.Printf("created snapshot %s: %d files, %s, tree %.12s, in %s\n", s.Ref(), s.Usage.Inodes,
					humanize.IBytes(s.Usage.Bytes), s.Root.Node, time.Since(start).Round(time.Millisecond))
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "cairn:", err)
			return cli.Exit("", 1)
		}
		return nil
	})
}
