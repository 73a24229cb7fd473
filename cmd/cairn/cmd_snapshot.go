package main

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/snapshots"
)

func snapshotCommand() *cli.Command {
	return &cli.Command{
		Name:  "snapshot",
		Usage: "take, list, diff, restore, clone, schedule and ship snapshots",
		Description: "A snapshot is a volume's namespace read at one consistent point and stored\n" +
			"as content-addressed tree objects. Snapshots are named VOLUME@NAME.\n" +
			"Restore and clone take constant time; unchanged directories are reused from\n" +
			"the previous snapshot, so taking one costs what changed since.",
		Subcommands: []*cli.Command{
			snapshotCreateCommand(),
			snapshotListCommand(),
			snapshotInfoCommand(),
			snapshotDeleteCommand(),
			snapshotDiffCommand(),
			snapshotRestoreCommand(),
			snapshotCloneCommand(),
			snapshotScheduleCommand(),
			snapshotSendCommand(),
			snapshotReceiveCommand(),
			snapshotPushCommand(),
			snapshotServeReceiveCommand(),
		},
	}
}

// nArgs checks the number of positional arguments.
func nArgs(c *cli.Context, min, max int) error {
	if n := c.NArg(); n < min || n > max {
		return fmt.Errorf("%s: want %s (see --help)", c.Command.FullName(), c.Command.ArgsUsage)
	}
	return nil
}

// parseLabels reads k=v pairs.
func parseLabels(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--label %q: want KEY=VALUE", kv)
		}
		out[k] = v
	}
	return out, nil
}

// formatLabels prints labels as k=v,k=v in key order.
func formatLabels(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + l[k]
	}
	return strings.Join(keys, ",")
}

// snapshotManager is the snapshot manager of an open data directory,
// freezing the cluster's other clients before each cut when there is a
// cluster.
func snapshotManager(d *datadir.Data) *snapshots.Manager {
	return snapshots.New(d.FS, d.Chunks, snapshots.Options{Logger: slog.Default(), Freeze: d.Freeze})
}
