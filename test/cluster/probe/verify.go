package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// verifyMain checks that records 0..-acked of -file are intact.
func verifyMain(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	var c common
	c.flags(fs)
	acked := fs.Int64("acked", -1, "highest acknowledged record (-1: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	cl, err := dial(c.addr, c.volume, c.timeout)
	if err != nil {
		fmt.Printf("verify error %v\n", err)
		return exitError(2)
	}
	defer cl.close()
	fh, err := cl.open(c.file, *acked < 0)
	if errorKind(err) == "NFS3ERR_NOENT" {
		fmt.Printf("verify FAIL file=%s acked=%d: the file is gone: %v\n", c.file, *acked, err)
		return exitError(1)
	}
	if err != nil {
		fmt.Printf("verify error %v\n", err)
		return exitError(2)
	}
	size, err := cl.size(c.file)
	if err != nil {
		fmt.Printf("verify error %v\n", err)
		return exitError(2)
	}
	tag := fileTag(c.file)
	counts := make(map[string]int64)
	var bad []string
	var extra int64 // intact records past the acknowledged ones
	rec := uint64(c.size)
	buf := make([]byte, 256*rec)
	for off := uint64(0); off < size || off < uint64(*acked+1)*rec; off += uint64(len(buf)) {
		n, err := cl.read(fh, buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Printf("verify error %v\n", err)
			return exitError(2)
		}
		clear(buf[n:]) // past the end: zeros, i.e. missing
		for i := uint64(0); i < uint64(len(buf))/rec; i++ {
			seq := off/rec + i
			if seq > uint64(*acked) {
				if off+(i+1)*rec <= size && checkRecord(buf[i*rec:(i+1)*rec], tag, seq) == recOK {
					extra++
				}
				continue
			}
			got := checkRecord(buf[i*rec:(i+1)*rec], tag, seq)
			counts[got]++
			if got != recOK && len(bad) < 10 {
				bad = append(bad, fmt.Sprintf("%d:%s", seq, got))
			}
		}
		if errors.Is(err, io.EOF) && off+uint64(len(buf)) >= uint64(*acked+1)*rec {
			break
		}
	}
	if len(bad) > 0 {
		fmt.Printf("verify FAIL file=%s acked=%d size=%d ok=%d missing=%d corrupt=%d misplaced=%d first=%v\n",
			c.file, *acked, size, counts[recOK], counts[recMissing], counts[recCorrupt], counts[recMisplaced], bad)
		return exitError(1)
	}
	fmt.Printf("verify ok file=%s acked=%d size=%d records=%d unacked-present=%d\n",
		c.file, *acked, size, counts[recOK], extra)
	return nil
}
