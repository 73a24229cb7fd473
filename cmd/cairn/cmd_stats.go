package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
)

func statsCommand() *cli.Command {
	return &cli.Command{
		Name:  "stats",
		Usage: "show logical and physical bytes, the dedup ratio and the chunk count",
		Flags: []cli.Flag{jsonFlag()},
		Action: func(c *cli.Context) error {
			return withData(c, func(d *datadir.Data) error {
				s, err := collectStats(c, d)
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return json.NewEncoder(os.Stdout).Encode(s)
				}
				fmt.Printf("volumes:        %d\n", s.Volumes)
				fmt.Printf("files:          %d\n", s.Inodes)
				fmt.Printf("logical bytes:  %s (%d)\n", humanize.IBytes(s.LogicalBytes), s.LogicalBytes)
				fmt.Printf("chunk bytes:    %s (%d, before compression)\n", humanize.IBytes(s.ChunkBytes), s.ChunkBytes)
				fmt.Printf("physical bytes: %s (%d, on disk)\n", humanize.IBytes(s.PhysicalBytes), s.PhysicalBytes)
				fmt.Printf("chunks:         %d\n", s.Chunks)
				fmt.Printf("dedup ratio:    %.2fx\n", s.DedupRatio)
				fmt.Printf("compression:    %.2fx\n", s.CompressionRatio)
				return nil
			})
		},
	}
}

// stats are the figures `cairn stats` prints.
type stats struct {
	Volumes          int     `json:"volumes"`
	Inodes           uint64  `json:"inodes"`
	LogicalBytes     uint64  `json:"logical_bytes"`
	ChunkBytes       uint64  `json:"chunk_bytes"`
	PhysicalBytes    uint64  `json:"physical_bytes"`
	Chunks           int64   `json:"chunks"`
	DedupRatio       float64 `json:"dedup_ratio"`
	CompressionRatio float64 `json:"compression_ratio"`
}

func collectStats(c *cli.Context, d *datadir.Data) (stats, error) {
	var s stats
	infos, err := d.FS.ListVolumes(c.Context)
	if err != nil {
		return s, err
	}
	for _, info := range infos {
		v, err := d.FS.OpenVolume(c.Context, info.Name)
		if err != nil {
			return s, err
		}
		u, err := v.Usage(c.Context)
		if cerr := v.Close(c.Context); err == nil {
			err = cerr
		}
		if err != nil {
			return s, err
		}
		s.Volumes++
		s.Inodes += u.Inodes
		s.LogicalBytes += u.Bytes
	}
	cs, err := d.Chunks.Stats(c.Context)
	if err != nil {
		return s, err
	}
	s.Chunks, s.ChunkBytes, s.PhysicalBytes = cs.Chunks, uint64(cs.PlainBytes), uint64(cs.StoredBytes)
	if s.ChunkBytes > 0 {
		s.DedupRatio = float64(s.LogicalBytes) / float64(s.ChunkBytes)
	}
	if s.PhysicalBytes > 0 {
		s.CompressionRatio = float64(s.ChunkBytes) / float64(s.PhysicalBytes)
	}
	return s, nil
}
