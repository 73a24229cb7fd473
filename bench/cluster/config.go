package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cairn-storage/cairn/bench/runenv"
)

// config holds the command-line flags.
type config struct {
	Dir            string          `json:"-"`
	Quick          bool            `json:"quick"`
	Size           runenv.ByteSize `json:"size"`
	RepairSize     runenv.ByteSize `json:"repair_size"`
	Chunking       string          `json:"chunking"`
	Depth          int             `json:"depth"`
	Runs           int             `json:"runs"`
	Scenarios      string          `json:"scenarios"`
	Repair         bool            `json:"repair"`
	RepairNodes    int             `json:"repair_nodes"`
	RepairReplicas int             `json:"repair_replicas"`
	Grace          time.Duration   `json:"grace_ns"`
	RepairInterval time.Duration   `json:"repair_interval_ns"`
	RepairTimeout  time.Duration   `json:"repair_timeout_ns"`
	JSON           string          `json:"-"`
	CPUProfile     string          `json:"-"`
	Verbose        bool            `json:"-"`
}

// parseFlags parses args into a config, scaled down by -quick.
func parseFlags(args []string) (*config, error) {
	c := &config{Size: 1 << 30}
	fl := flag.NewFlagSet("bench/cluster", flag.ContinueOnError)
	fl.Usage = func() {
		fmt.Fprintf(fl.Output(), "usage: go run ./bench/cluster [flags]\n\n"+
			"Sequential write/read throughput of in-process cairn clusters on loopback\n"+
			"against a plain local chunk store, and repair throughput after a node loss.\n\n")
		fl.PrintDefaults()
	}
	fl.StringVar(&c.Dir, "dir", os.TempDir(), "where to make the temporary directory (on the disk under test)")
	fl.BoolVar(&c.Quick, "quick", false, "smoke run: sizes not set divided by 8 (128 MiB), under a minute")
	fl.Var(&c.Size, "size", "bytes written by each throughput scenario, shared by its writers (default 1 GiB)")
	fl.Var(&c.RepairSize, "repair-size", "bytes written to the repair cluster before the loss (default -size)")
	fl.StringVar(&c.Chunking, "chunking", "cdc", "how the data is cut: cdc (FastCDC, chunks.DefaultParams, ~1 MiB mean) or fixed (1 MiB)")
	fl.IntVar(&c.Depth, "depth", 4, "chunk Puts (and Gets) in flight per writer (fs stores a file's chunks 4 at a time)")
	fl.IntVar(&c.Runs, "runs", 1, "runs of each throughput scenario (the median is kept)")
	fl.StringVar(&c.Scenarios, "scenarios", strings.Join(scenarioNames(), ","), "throughput scenarios to run, comma-separated (\"\" for none)")
	fl.BoolVar(&c.Repair, "repair", true, "run the repair benchmark")
	fl.IntVar(&c.RepairNodes, "repair-nodes", 4, "nodes of the repair cluster")
	fl.IntVar(&c.RepairReplicas, "repair-replicas", 3, "R of the repair cluster (less than -repair-nodes, so a loss needs new copies)")
	fl.DurationVar(&c.Grace, "grace", 2*time.Second, "grace period of the repair cluster (cluster.Config.Grace)")
	fl.DurationVar(&c.RepairInterval, "repair-interval", 250*time.Millisecond, "pause between repair scans in the repair cluster")
	fl.DurationVar(&c.RepairTimeout, "repair-timeout", 5*time.Minute, "give up waiting for the repair after this long")
	fl.StringVar(&c.JSON, "json", "", "also write the results to this JSON file")
	fl.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	fl.BoolVar(&c.Verbose, "v", false, "log the nodes' warnings to stderr")
	if err := fl.Parse(args); err != nil {
		return nil, err
	}
	if fl.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	set := map[string]bool{}
	fl.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.Quick && !set["size"] {
		c.Size /= 8
	}
	if !set["repair-size"] {
		c.RepairSize = c.Size
	}
	return c, c.validate()
}

// validate checks the flags against each other.
func (c *config) validate() error {
	for _, s := range runenv.List(c.Scenarios) {
		if !slices.Contains(scenarioNames(), s) {
			return fmt.Errorf("-scenarios: unknown scenario %q (want %v)", s, scenarioNames())
		}
	}
	switch {
	case c.Chunking != "cdc" && c.Chunking != "fixed":
		return fmt.Errorf("-chunking: want cdc or fixed, not %q", c.Chunking)
	case c.Size < 1<<20 || c.RepairSize < 1<<20:
		return fmt.Errorf("-size and -repair-size must be at least 1 MiB")
	case c.Depth < 1 || c.Depth > 64:
		return fmt.Errorf("-depth must be 1..64")
	case c.Runs < 1 || c.Runs > 20:
		return fmt.Errorf("-runs must be 1..20")
	case c.RepairNodes < 2 || c.RepairNodes > 16:
		return fmt.Errorf("-repair-nodes must be 2..16")
	case c.RepairReplicas < 1 || c.RepairReplicas >= c.RepairNodes:
		return fmt.Errorf("-repair-replicas must be 1..%d: with R = nodes, the survivors of a loss already hold every chunk", c.RepairNodes-1)
	case c.Grace <= 0 || c.RepairInterval <= 0 || c.RepairTimeout <= 0:
		return fmt.Errorf("-grace, -repair-interval and -repair-timeout must be positive")
	}
	return nil
}
