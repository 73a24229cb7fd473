package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/snapshots"
)

func snapshotScheduleCommand() *cli.Command {
	return &cli.Command{
		Name:      "schedule",
		Usage:     "snapshot a volume periodically and prune old automatic snapshots",
		ArgsUsage: "[VOLUME]",
		Description: "cairn server takes the automatic snapshots, named auto-YYYY-MM-DDTHH-MM-SSZ,\n" +
			"and deletes the oldest beyond --keep (snapshots taken by hand are never\n" +
			"pruned). --off removes the schedule. Without VOLUME, lists the schedules.",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "every", Usage: "interval between snapshots (at least 1m)"},
			&cli.IntFlag{Name: "keep", Usage: "automatic snapshots to keep", Value: 24},
			&cli.StringFlag{Name: "pre-hook", Usage: "command to run before each cut"},
			&cli.StringFlag{Name: "post-hook", Usage: "command to run after each cut"},
			&cli.BoolFlag{Name: "off", Usage: "remove the volume's schedule"},
			jsonFlag(),
		},
		Action: snapshotSchedule,
	}
}

func snapshotSchedule(c *cli.Context) error {
	if err := nArgs(c, 0, 1); err != nil {
		return err
	}
	return withManager(c, func(_ *datadir.Data, m *snapshots.Manager) error {
		vol := c.Args().First()
		switch {
		case vol == "":
			scheds, err := m.Schedules(c.Context)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(scheds)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VOLUME\tEVERY\tKEEP\tPRE-HOOK\tPOST-HOOK")
			for _, s := range scheds {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", s.Volume, s.Every, s.Keep, s.PreHook, s.PostHook)
			}
			return tw.Flush()
		case c.Bool("off"):
			if err := m.Unschedule(c.Context, vol); err != nil {
				return err
			}
			fmt.Printf("removed the snapshot schedule of %s\n", vol)
			return nil
		case !c.IsSet("every"):
			return fmt.Errorf("snapshot schedule %s: give --every (or --off)", vol)
		}
		s := snapshots.Schedule{Volume: vol, Every: c.Duration("every"), Keep: c.Int("keep"),
			PreHook: c.String("pre-hook"), PostHook: c.String("post-hook")}
		if err := m.SetSchedule(c.Context, s); err != nil {
			return err
		}
		fmt.Printf("volume %s: a snapshot every %s, keeping %d (taken by cairn server)\n", vol, s.Every, s.Keep)
		return nil
	})
}
