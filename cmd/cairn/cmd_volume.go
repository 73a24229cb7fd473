package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fs"
)

func volumeCommand() *cli.Command {
	return &cli.Command{
		Name:  "volume",
		Usage: "create, list, inspect and delete volumes",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "create an empty volume",
				ArgsUsage: "NAME",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "quota", Usage: "cap on file data, e.g. 10GiB (default: none)"},
					&cli.BoolFlag{Name: "compress", Usage: "store new chunks zstd-compressed"},
				},
				Action: volumeCreate,
			},
			{
				Name:   "list",
				Usage:  "list volumes with their usage",
				Flags:  []cli.Flag{jsonFlag()},
				Action: volumeList,
			},
			{
				Name:      "info",
				Usage:     "show a volume's configuration and usage",
				ArgsUsage: "NAME",
				Flags:     []cli.Flag{jsonFlag()},
				Action:    volumeInfo,
			},
			{
				Name:      "delete",
				Usage:     "delete a volume and all its files (chunks are reclaimed by gc)",
				ArgsUsage: "NAME",
				Action:    volumeDelete,
			},
		},
	}
}

func jsonFlag() cli.Flag {
	return &cli.BoolFlag{Name: "json", Usage: "print machine-readable JSON"}
}

// oneArg returns the single positional argument named what.
func oneArg(c *cli.Context, what string) (string, error) {
	if c.NArg() != 1 {
		return "", fmt.Errorf("%s: want exactly one %s (see --help)", c.Command.FullName(), what)
	}
	return c.Args().First(), nil
}

func volumeCreate(c *cli.Context) error {
	name, err := oneArg(c, "NAME")
	if err != nil {
		return err
	}
	cfg := fs.VolumeConfig{Compress: c.Bool("compress")}
	if q := c.String("quota"); q != "" {
		if cfg.Quota, err = parseBytes(q); err != nil {
			return fmt.Errorf("--quota %q: %w", q, err)
		}
	}
	return withData(c, func(d *datadir.Data) error {
		info, err := d.FS.CreateVolume(c.Context, name, cfg)
		if err != nil {
			return err
		}
		fmt.Printf("created volume %s (id %d)\n", info.Name, info.ID)
		return nil
	})
}

// volumeView is what list and info print.
type volumeView struct {
	fs.VolumeInfo
	Usage fs.Usage `json:"usage"`
}

func loadVolumeViews(c *cli.Context, d *datadir.Data, names []string) ([]volumeView, error) {
	var out []volumeView
	for _, name := range names {
		v, err := d.FS.OpenVolume(c.Context, name)
		if err != nil {
			return nil, err
		}
		u, err := v.Usage(c.Context)
		if cerr := v.Close(c.Context); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		out = append(out, volumeView{VolumeInfo: v.Info(), Usage: u})
	}
	return out, nil
}

func printVolumes(c *cli.Context, views []volumeView) error {
	if c.Bool("json") {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(views)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tUSED\tQUOTA\tFILES\tCOMPRESS\tCREATED")
	for _, v := range views {
		quota := "-"
		if v.Quota > 0 {
			quota = humanize.IBytes(v.Quota)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%v\t%s\n", v.Name, v.ID, humanize.IBytes(v.Usage.Bytes),
			quota, v.Usage.Inodes, v.Compress, v.Created.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

func volumeList(c *cli.Context) error {
	return withData(c, func(d *datadir.Data) error {
		infos, err := d.FS.ListVolumes(c.Context)
		if err != nil {
			return err
		}
		names := make([]string, len(infos))
		for i, info := range infos {
			names[i] = info.Name
		}
		views, err := loadVolumeViews(c, d, names)
		if err != nil {
			return err
		}
		return printVolumes(c, views)
	})
}

func volumeInfo(c *cli.Context) error {
	name, err := oneArg(c, "NAME")
	if err != nil {
		return err
	}
	return withData(c, func(d *datadir.Data) error {
		views, err := loadVolumeViews(c, d, []string{name})
		if err != nil {
			return err
		}
		return printVolumes(c, views)
	})
}

func volumeDelete(c *cli.Context) error {
	name, err := oneArg(c, "NAME")
	if err != nil {
		return err
	}
	return withData(c, func(d *datadir.Data) error {
		if err := d.FS.DeleteVolume(c.Context, name); err != nil {
			return err
		}
		fmt.Printf("deleted volume %s\n", name)
		return nil
	})
}
