package main

import (
	"fmt"
	"os"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"
	"google.golang.org/protobuf/types/known/durationpb"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
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
	req := &cairnv1.GCRequest{Grace: durationpb.New(grace), DryRun: c.Bool("dry-run")}
	return withAPI(c, func(api *client.Client) error {
		rep, err := runGC(c, api, req)
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return printProto(rep)
		}
		verb := "deleted"
		if rep.GetDryRun() {
			verb = "would delete"
		}
		fmt.Fprintf(os.Stderr, "gc: %d snapshots and the live volumes reference %d chunks; %d chunks stored\n",
			rep.GetSnapshots(), rep.GetMarked(), rep.GetScanned())
		fmt.Printf("gc: %s %d chunks, %s (%s on disk); kept %d unreferenced chunks younger than %s; %s\n",
			verb, rep.GetSwept(), humanize.IBytes(uint64(rep.GetSweptBytes())), humanize.IBytes(uint64(rep.GetSweptStored())),
			rep.GetYoung(), grace, rep.GetDuration().AsDuration().Round(time.Millisecond))
		return nil
	})
}

// gcPhases are the progress lines of a collection's phases.
var gcPhases = map[string]string{"mark": "gc: marking snapshots", "scan": "gc: scanning chunks", "sweep": "gc: sweeping"}

// runGC runs a collection, showing its progress on stderr, and returns
// its report.
func runGC(c *cli.Context, api *client.Client, req *cairnv1.GCRequest) (*cairnv1.GCReport, error) {
	stream, err := api.Maintenance.GC(c.Context, req)
	if err != nil {
		return nil, err
	}
	// The stream's errors stay unwrapped: withAPI shows a status's message as is.
	return untilReport(stream, (*cairnv1.GCResponse).GetReport, phaseProgress(gcPhases))
}
