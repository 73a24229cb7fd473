package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"
	"google.golang.org/protobuf/proto"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/control/client"
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
			"The hooks run here, in your environment; the cut is made by the daemon\n" +
			"(cairn server) if one owns --data.\n" +
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
	req, err := createRequest(c)
	if err != nil {
		return err
	}
	return withAPI(c, func(api *client.Client) error {
		start := time.Now()
		snaps, err := createWithHooks(c.Context, api, req, c.String("pre-hook"), c.String("post-hook"))
		if len(snaps) == 0 {
			return err
		}
		if c.Bool("json") {
			if jerr := printProto(&cairnv1.CreateSnapshotResponse{Snapshots: snaps}); jerr != nil {
				return jerr
			}
		} else {
			for _, s := range snaps {
				fmt.Printf("created snapshot %s@%s: %d files, %s, tree %.12s, in %s\n", s.GetVolume(), s.GetName(), s.GetFiles(),
					humanize.IBytes(s.GetBytes()), s.GetRoot(), time.Since(start).Round(time.Millisecond))
			}
		}
		return err // taken, but the post-hook failed: exit status 1
	})
}

// createRequest is the CreateSnapshot request the arguments ask for.
func createRequest(c *cli.Context) (*cairnv1.CreateSnapshotRequest, error) {
	labels, err := parseLabels(c.StringSlice("label"))
	if err != nil {
		return nil, err
	}
	req := &cairnv1.CreateSnapshotRequest{Labels: labels}
	if group := c.String("group"); group != "" {
		if c.NArg() < 1 {
			return nil, fmt.Errorf("snapshot create --group %s: name at least one VOLUME", group)
		}
		req.Group, req.Volumes = group, c.Args().Slice()
		return req, nil
	}
	if err := nArgs(c, 2, 2); err != nil {
		return nil, err
	}
	req.Volume, req.Name = c.Args().Get(0), c.Args().Get(1)
	return req, nil
}

// createWithHooks runs the pre-hook here, has the daemon cut, runs the
// post-hook here and records it with the snapshots. Bad input is refused
// before any hook runs. It returns the snapshots taken, with an error if
// something failed after they were (the post-hook).
func createWithHooks(ctx context.Context, api *client.Client, req *cairnv1.CreateSnapshotRequest, pre, post string) ([]*cairnv1.Snapshot, error) {
	if pre == "" && post == "" {
		resp, err := api.Snapshots.CreateSnapshot(ctx, req)
		return resp.GetSnapshots(), err
	}
	check := proto.CloneOf(req)
	check.ValidateOnly = true
	if _, err := api.Snapshots.CreateSnapshot(ctx, check); err != nil {
		return nil, err
	}
	hooks := snapshots.CutHooks{Pre: pre, Post: post, Snapshot: req.GetName(), Volumes: []string{req.GetVolume()},
		Logger: slog.Default()}
	if req.GetGroup() != "" {
		hooks.Snapshot, hooks.Volumes = req.GetGroup(), req.GetVolumes()
	}
	var snaps []*cairnv1.Snapshot
	ran, err := snapshots.RunHooks(ctx, hooks, func(ran []snapshots.HookRun) error {
		req.Hooks = control.HookProtos(ran)
		resp, err := api.Snapshots.CreateSnapshot(ctx, req)
		snaps = resp.GetSnapshots()
		return apiError(err) // the daemon's message, joined with the post-hook's
	})
	if len(snaps) > 0 && post != "" {
		recorded, rerr := recordHook(ctx, api, snaps, ran[len(ran)-1])
		if rerr != nil {
			return snaps, errors.Join(err, fmt.Errorf("recording the post-hook: %w", apiError(rerr)))
		}
		snaps = recorded
	}
	return snaps, err
}

// recordHook adds a hook run after the cut to the snapshots' records. It
// runs even if ctx is done: the hook did run.
func recordHook(ctx context.Context, api *client.Client, snaps []*cairnv1.Snapshot, h snapshots.HookRun) ([]*cairnv1.Snapshot, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	req := &cairnv1.AddSnapshotHooksRequest{Hooks: control.HookProtos([]snapshots.HookRun{h})}
	for _, s := range snaps {
		req.Snapshots = append(req.Snapshots, s.GetVolume()+"@"+s.GetName())
	}
	resp, err := api.Snapshots.AddSnapshotHooks(ctx, req)
	return resp.GetSnapshots(), err
}
