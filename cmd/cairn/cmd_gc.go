package main

import (
	"fmt"
	"os"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/snapshots"
)

func gcCommand() *cli.Command {
	return &cli.Command{
		Name:  "gc",
		Usage: "delete the chunks no volume or snapshot references",
		Description: "gc marks every chunk reachable from the live volumes, the snapshots and the\n" +
			"receives in progress, then deletes the others, except those stored less\n" +
			"than --grace ago: a writer that stored a chunk and has not yet committed\n" +
			"the reference to it never loses it. Progress goes to stderr.",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "grace", Usage: "keep chunks younger than this", Value: snapshots.DefaultGrace},
			&cli.BoolFlag{Name: "dry-run", Usage: "report what would be deleted, delete nothing"},
			jsonFlag(),
		},
		Action: gc,
	}
}

func gc(c *cli.Context) error {
	grace := c.Duration("grace")
	if grace <= 0 {
		return fmt.Errorf("gc: --grace %s: want a positive duration", grace)
	}
	return withManager(c, func(d *datadir.Data, m *snapshots.Manager) error {
		phases := map[string]*progress{}
		names := map[string]string{"mark": "gc: marking snapshots", "scan": "gc: scanning chunks", "sweep": "gc: sweeping"}
		rep, err := m.GC(c.Context, snapshots.GCOptions{
			Grace:  grace,
			DryRun: c.Bool("dry-run"),
			Progress: func(p snapshots.GCProgress) {
				pr := phases[p.Phase]
				if pr == nil {
					pr = newProgress(names[p.Phase])
					phases[p.Phase] = pr
				}
				pr.update(int(p.Done), int(max(p.Total, p.Done)))
			},
		})
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return printJSON(rep)
		}
		verb := "deleted"
		if rep.DryRun {
			verb = "would delete"
		}
		fmt.Fprintf(os.Stderr, "gc: %d snapshots and the live volumes reference %d chunks; %d chunks stored\n",
			rep.Snapshots, rep.Marked, rep.Scanned)
		fmt.Printf("gc: %s %d chunks, %s (%s on disk); kept %d unreferenced chunks younger than %s; %s\n",
			verb, rep.Swept, humanize.IBytes(uint64(rep.SweptBytes)), humanize.IBytes(uint64(rep.SweptStored)),
			rep.Young, grace, rep.Duration.Round(time.Millisecond))
		return nil
	})
}
