package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
)

func volumeSetCommand() *cli.Command {
	return &cli.Command{
		Name:      "set",
		Usage:     "change a volume's quota, compression, read-only flag or labels",
		ArgsUsage: "NAME",
		Description: "--quota expands or shrinks the cap (\"none\" removes it); a quota below the\n" +
			"bytes the volume holds is refused. --compress applies to chunks written from\n" +
			"now on. --read-only refuses every change (EROFS) through every mount and NFS.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "quota", Usage: "new cap on file data, e.g. 20GiB, or none"},
			&cli.BoolFlag{Name: "compress", Usage: "store new chunks zstd-compressed (--compress=false: stop)"},
			&cli.BoolFlag{Name: "read-only", Usage: "refuse every change (--read-only=false: writable again)"},
			&cli.StringSliceFlag{Name: "label", Usage: "KEY=VALUE to set, KEY= to remove (repeatable)"},
			jsonFlag(),
		},
		Action: volumeSet,
	}
}

func volumeSet(c *cli.Context) error {
	name, err := oneArg(c, "NAME")
	if err != nil {
		return err
	}
	opts := &cairnv1.SetOptionsRequest{Name: name}
	if c.IsSet("compress") {
		v := c.Bool("compress")
		opts.Compress = &v
	}
	if c.IsSet("read-only") {
		v := c.Bool("read-only")
		opts.ReadOnly = &v
	}
	// KEY= parses as an empty value, which SetOptions takes as "remove".
	if opts.Labels, err = parseLabels(c.StringSlice("label")); err != nil {
		return err
	}
	var quota *cairnv1.SetQuotaRequest
	if q := c.String("quota"); q != "" {
		quota = &cairnv1.SetQuotaRequest{Name: name}
		if q != "none" {
			if quota.Quota, err = parseBytes(q); err != nil {
				return fmt.Errorf("--quota %q: %w", q, err)
			}
		}
	}
	if quota == nil && opts.Compress == nil && opts.ReadOnly == nil && len(opts.Labels) == 0 {
		return fmt.Errorf("volume set %s: nothing to change (see --help)", name)
	}
	return withAPI(c, func(api *client.Client) error {
		var v *cairnv1.Volume
		var err error
		if quota != nil {
			if v, err = api.Volumes.SetQuota(c.Context, quota); err != nil {
				return err
			}
		}
		if opts.Compress != nil || opts.ReadOnly != nil || len(opts.Labels) > 0 {
			if v, err = api.Volumes.SetOptions(c.Context, opts); err != nil {
				return err
			}
		}
		if c.Bool("json") {
			return printProto(v)
		}
		return printVolumes(c, []*cairnv1.Volume{v})
	})
}
