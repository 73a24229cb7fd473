package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fs"
)

func fsckCommand() *cli.Command {
	return &cli.Command{
		Name:  "fsck",
		Usage: "verify every inode, directory entry, extent and chunk of the data directory",
		Description: "fsck reads every chunk that a file refers to and checks its BLAKE3 hash,\n" +
			"checks link counts, extents and usage counters, and reports what is wrong.\n" +
			"With --repair it drops what cannot be recovered (unreadable ranges become\n" +
			"holes) and fixes the counters. Run it with the volumes unmounted.\n" +
			"Exit status: 0 when clean (or everything was repaired), 1 otherwise.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "repair", Usage: "fix what can be fixed; drop what is unrecoverable"},
			&cli.BoolFlag{Name: "metadata-only", Usage: "skip reading chunks"},
		},
		Action: fsck,
	}
}

func fsck(c *cli.Context) error {
	return withData(c, func(d *datadir.Data) error {
		opts := fs.FsckOptions{Repair: c.Bool("repair")}
		if !c.Bool("metadata-only") {
			opts.Chunks = d.Chunks
			if d.Local != nil {
				opts.Chunks = d.Local // bypass the cache: read what is on disk
			}
			opts.Progress = newProgress("verifying chunks").update
		}
		rep, err := d.FS.Fsck(c.Context, opts)
		if err != nil {
			return err
		}
		unrepaired := 0
		for _, p := range rep.Problems {
			fmt.Println(p)
			if !p.Repaired {
				unrepaired++
			}
		}
		fmt.Printf("%d volumes, %d inodes, %d extents, %d chunks checked: %d problems",
			rep.Volumes, rep.Inodes, rep.Extents, rep.Chunks, len(rep.Problems))
		if n := len(rep.Problems) - unrepaired; n > 0 {
			fmt.Printf(", %d repaired", n)
		}
		fmt.Println()
		if unrepaired > 0 {
			return cli.Exit(fmt.Sprintf("fsck: %d problems left (run with --repair to fix)", unrepaired), 1)
		}
		return nil
	})
}
