package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
)

func volumeCommand() *cli.Command {
	return &cli.Command{
		Name:  "volume",
		Usage: "create, list, inspect, configure and delete volumes",
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
			volumeSetCommand(),
			{
				Name:      "delete",
				Usage:     "delete a volume and all its files (chunks are reclaimed by gc); refused while it is mounted",
				ArgsUsage: "NAME",
				Action:    volumeDelete,
			},
		},
	}
}

func jsonFlag() cli.Flag {
	return &cli.BoolFlag{Name: "json", Usage: "print machine-readable JSON (the control API's messages)"}
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
	req := &cairnv1.CreateVolumeRequest{Name: name, Compress: c.Bool("compress")}
	if q := c.String("quota"); q != "" {
		if req.Quota, err = parseBytes(q); err != nil {
			return fmt.Errorf("--quota %q: %w", q, err)
		}
	}
	return withAPI(c, func(api *client.Client) error {
		v, err := api.Volumes.CreateVolume(c.Context, req)
		if err != nil {
			return err
		}
		fmt.Printf("created volume %s (id %d)\n", v.GetName(), v.GetId())
		return nil
	})
}

// printVolumes prints volumes as a table, or with --json as the API's
// list message.
func printVolumes(c *cli.Context, vols []*cairnv1.Volume) error {
	if c.Bool("json") {
		return printProto(&cairnv1.ListVolumesResponse{Volumes: vols})
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tUSED\tQUOTA\tFILES\tCOMPRESS\tREAD-ONLY\tCREATED")
	for _, v := range vols {
		quota := "-"
		if v.GetQuota() > 0 {
			quota = humanize.IBytes(v.GetQuota())
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%v\t%v\t%s\n", v.GetName(), v.GetId(), humanize.IBytes(v.GetUsedBytes()),
			quota, v.GetFiles(), v.GetCompress(), v.GetReadOnly(), v.GetCreated().AsTime().Local().Format(time.DateTime))
	}
	return tw.Flush()
}

func volumeList(c *cli.Context) error {
	return withAPI(c, func(api *client.Client) error {
		resp, err := api.Volumes.ListVolumes(c.Context, &cairnv1.ListVolumesRequest{})
		if err != nil {
			return err
		}
		return printVolumes(c, resp.GetVolumes())
	})
}

func volumeInfo(c *cli.Context) error {
	name, err := oneArg(c, "NAME")
	if err != nil {
		return err
	}
	return withAPI(c, func(api *client.Client) error {
		v, err := api.Volumes.GetVolume(c.Context, &cairnv1.GetVolumeRequest{Name: name})
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return printProto(v)
		}
		return printVolumes(c, []*cairnv1.Volume{v})
	})
}

func volumeDelete(c *cli.Context) error {
	name, err := oneArg(c, "NAME")
	if err != nil {
		return err
	}
	return withAPI(c, func(api *client.Client) error {
		if _, err := api.Volumes.DeleteVolume(c.Context, &cairnv1.DeleteVolumeRequest{Name: name}); err != nil {
			return err
		}
		fmt.Printf("deleted volume %s\n", name)
		return nil
	})
}
