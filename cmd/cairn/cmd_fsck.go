package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
)

func fsckCommand() *cli.Command {
	return &cli.Command{
		Name:  "fsck",
		Usage: "verify every inode, directory entry, extent and chunk of the data directory",
		Description: "fsck reads every chunk that a file refers to and checks its BLAKE3 hash,\n" +
			"checks link counts, extents and usage counters, and reports what is wrong.\n" +
			"A running daemon checks online, without stopping I/O. With --repair it drops\n" +
			"what cannot be recovered (unreadable ranges become holes) and fixes the\n" +
			"counters; that needs the data directory to itself: stop the daemon first.\n" +
			"Exit status: 0 when clean (or everything was repaired), 1 otherwise.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "repair", Usage: "fix what can be fixed; drop what is unrecoverable"},
			&cli.BoolFlag{Name: "metadata-only", Usage: "skip reading chunks"},
			jsonFlag(),
		},
		Action: fsck,
	}
}

func fsck(c *cli.Context) error {
	req := &cairnv1.FsckRequest{Repair: c.Bool("repair"), MetadataOnly: c.Bool("metadata-only")}
	return withAPI(c, func(api *client.Client) error {
		rep, err := runFsck(c, api, req)
		if err != nil {
			return err
		}
		unrepaired := 0
		for _, p := range rep.GetProblems() {
			if !p.GetRepaired() {
				unrepaired++
			}
		}
		if c.Bool("json") {
			if err := printProto(rep); err != nil {
				return err
			}
		} else {
			printFsck(rep, unrepaired)
		}
		if unrepaired > 0 {
			return cli.Exit(fmt.Sprintf("fsck: %d problems left (run with --repair to fix)", unrepaired), 1)
		}
		return nil
	})
}

// printFsck prints the problems, then the summary line.
func printFsck(rep *cairnv1.FsckReport, unrepaired int) {
	for _, p := range rep.GetProblems() {
		line := fmt.Sprintf("volume %s inode %d: %s", p.GetVolume(), p.GetIno(), p.GetWhat())
		if p.GetRepaired() {
			line += " (repaired)"
		}
		fmt.Println(line)
	}
	fmt.Printf("%d volumes, %d inodes, %d extents, %d chunks checked: %d problems",
		rep.GetVolumes(), rep.GetInodes(), rep.GetExtents(), rep.GetChunks(), len(rep.GetProblems()))
	if n := len(rep.GetProblems()) - unrepaired; n > 0 {
		fmt.Printf(", %d repaired", n)
	}
	fmt.Println()
}

// runFsck runs a check, showing the chunk verification's progress on
// stderr, and returns its report.
func runFsck(c *cli.Context, api *client.Client, req *cairnv1.FsckRequest) (*cairnv1.FsckReport, error) {
	stream, err := api.Maintenance.Fsck(c.Context, req)
	if err != nil {
		return nil, err
	}
	// The stream's errors stay unwrapped: withAPI shows a status's message as is.
	return untilReport(stream, (*cairnv1.FsckResponse).GetReport, phaseProgress(map[string]string{"verify": "verifying chunks"}))
}
