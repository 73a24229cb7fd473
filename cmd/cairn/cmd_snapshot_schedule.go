package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
	"google.golang.org/protobuf/types/known/durationpb"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
)

func snapshotScheduleCommand() *cli.Command {
	return &cli.Command{
		Name:      "schedule",
		Usage:     "snapshot a volume periodically and prune old automatic snapshots",
		ArgsUsage: "[VOLUME]",
		Description: "cairn server takes the automatic snapshots, named auto-YYYY-MM-DDTHH-MM-SSZ,\n" +
			"and deletes the oldest beyond --keep (snapshots taken by hand are never\n" +
			"pruned); their hooks run in the server. --off removes the schedule.\n" +
			"Without VOLUME, lists the schedules.",
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
	vol := c.Args().First()
	if vol != "" && !c.Bool("off") && !c.IsSet("every") {
		return fmt.Errorf("snapshot schedule %s: give --every (or --off)", vol)
	}
	return withAPI(c, func(api *client.Client) error {
		switch {
		case vol == "":
			return listSchedules(c, api)
		case c.Bool("off"):
			if _, err := api.Snapshots.RemoveSchedule(c.Context, &cairnv1.RemoveScheduleRequest{Volume: vol}); err != nil {
				return err
			}
			fmt.Printf("removed the snapshot schedule of %s\n", vol)
			return nil
		}
		s := &cairnv1.Schedule{Volume: vol, Every: durationpb.New(c.Duration("every")), Keep: int32(c.Int("keep")),
			PreHook: c.String("pre-hook"), PostHook: c.String("post-hook")}
		if _, err := api.Snapshots.SetSchedule(c.Context, &cairnv1.SetScheduleRequest{Schedule: s}); err != nil {
			return err
		}
		fmt.Printf("volume %s: a snapshot every %s, keeping %d (taken by cairn server)\n", vol, c.Duration("every"), s.GetKeep())
		return nil
	})
}

// listSchedules prints every schedule.
func listSchedules(c *cli.Context, api *client.Client) error {
	resp, err := api.Snapshots.ListSchedules(c.Context, &cairnv1.ListSchedulesRequest{})
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return printProto(resp)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VOLUME\tEVERY\tKEEP\tPRE-HOOK\tPOST-HOOK")
	for _, s := range resp.GetSchedules() {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", s.GetVolume(), s.GetEvery().AsDuration(), s.GetKeep(), s.GetPreHook(), s.GetPostHook())
	}
	return tw.Flush()
}
