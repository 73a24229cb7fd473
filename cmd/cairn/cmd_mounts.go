package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
)

func mountsCommand() *cli.Command {
	return &cli.Command{
		Name:   "mounts",
		Usage:  "list the daemon's FUSE mounts and the NFS clients it served recently",
		Flags:  []cli.Flag{jsonFlag()},
		Action: listMounts,
	}
}

func listMounts(c *cli.Context) error {
	return withAPI(c, func(api *client.Client) error {
		resp, err := api.Mounts.ListMounts(c.Context, &cairnv1.ListMountsRequest{})
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return printProto(resp)
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tVOLUME\tWHERE\tMODE\tBY\tSINCE")
		for _, m := range resp.GetMounts() {
			mode := "rw"
			if m.GetReadOnly() {
				mode = "ro"
			}
			fmt.Fprintf(tw, "fuse\t%s\t%s\t%s\t%s\t%s\n", m.GetVolume(), m.GetMountpoint(), mode, m.GetOwner(),
				m.GetMounted().AsTime().Local().Format(time.DateTime))
		}
		for _, n := range resp.GetNfsClients() {
			fmt.Fprintf(tw, "nfs\t%s\t%s\t-\t-\t%s\n", n.GetVolume(), n.GetAddress(),
				n.GetLastSeen().AsTime().Local().Format(time.DateTime))
		}
		return tw.Flush()
	})
}
