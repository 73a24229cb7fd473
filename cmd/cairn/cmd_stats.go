package main

import (
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
)

func statsCommand() *cli.Command {
	return &cli.Command{
		Name:   "stats",
		Usage:  "show logical and physical bytes, the dedup ratio and the chunk count",
		Flags:  []cli.Flag{jsonFlag()},
		Action: stats,
	}
}

func stats(c *cli.Context) error {
	return withAPI(c, func(api *client.Client) error {
		s, err := api.Maintenance.Stats(c.Context, &cairnv1.StatsRequest{})
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return printProto(s)
		}
		fmt.Printf("volumes:        %d\n", s.GetVolumes())
		fmt.Printf("files:          %d\n", s.GetInodes())
		fmt.Printf("logical bytes:  %s (%d)\n", humanize.IBytes(s.GetLogicalBytes()), s.GetLogicalBytes())
		fmt.Printf("chunk bytes:    %s (%d, before compression)\n", humanize.IBytes(s.GetChunkBytes()), s.GetChunkBytes())
		fmt.Printf("physical bytes: %s (%d, on disk)\n", humanize.IBytes(s.GetPhysicalBytes()), s.GetPhysicalBytes())
		fmt.Printf("chunks:         %d\n", s.GetChunks())
		fmt.Printf("dedup ratio:    %.2fx\n", s.GetDedupRatio())
		fmt.Printf("compression:    %.2fx\n", s.GetCompressionRatio())
		return nil
	})
}
