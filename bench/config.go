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
	Keep           bool            `json:"-"`
	Quick          bool            `json:"quick"`
	Targets        string          `json:"targets"`
	Workloads      string          `json:"workloads"`
	SeqSize        runenv.ByteSize `json:"seq_size"`
	Block          runenv.ByteSize `json:"block"`
	RandSize       runenv.ByteSize `json:"rand_size"`
	RandOps        int             `json:"rand_ops"`
	RandTime       time.Duration   `json:"rand_time_ns"`
	RandReadCache  string          `json:"randread_cache"`
	Files          int             `json:"files"`
	Dirs           int             `json:"dirs"`
	FileSize       runenv.ByteSize `json:"file_size"`
	UntarSrc       string          `json:"untar_src"`
	MemSize        runenv.ByteSize `json:"mem_size"`
	Writeback      bool            `json:"writeback"`
	Settle         time.Duration   `json:"settle_ns"`
	CairnBin       string          `json:"-"`
	JSON           string          `json:"-"`
	CPUProfile     string          `json:"-"`
	Trace          string          `json:"-"`
	Profile        string          `json:"profile,omitempty"`
	ProfileSeconds int             `json:"profile_seconds,omitempty"`
}

// parseFlags parses args into a config, scaled down by -quick.
func parseFlags(args []string) (*config, error) {
	c := &config{SeqSize: 1 << 30, Block: 1 << 20, RandSize: 256 << 20, FileSize: 4 << 10, MemSize: 4 << 30}
	fl := flag.NewFlagSet("bench", flag.ContinueOnError)
	fl.Usage = func() {
		fmt.Fprintf(fl.Output(), "usage: go run ./bench [flags]\n\n"+
			"End-to-end benchmark of a plain directory, a go-fuse loopback mount and a cairn\n"+
			"mount, with the same workloads in one run. Run as root (drop_caches, mounts).\n\n")
		fl.PrintDefaults()
	}
	fl.StringVar(&c.Dir, "dir", os.TempDir(), "where to make the temporary directory (on the local disk under test)")
	fl.BoolVar(&c.Keep, "keep", false, "keep the temporary directory (data, logs) after the run")
	fl.BoolVar(&c.Quick, "quick", false, "scale the workloads down ~8x for a smoke run")
	fl.StringVar(&c.Targets, "targets", strings.Join(targetNames, ","), "targets to run, comma-separated")
	fl.StringVar(&c.Workloads, "workloads", strings.Join(workloadNames, ","), "workloads to run, comma-separated")
	fl.Var(&c.SeqSize, "seq-size", "size of the sequential write and read")
	fl.Var(&c.Block, "block", "block size of the sequential workloads")
	fl.Var(&c.RandSize, "rand-size", "size of the file of the random 4 KiB workloads")
	fl.IntVar(&c.RandOps, "rand-ops", 50000, "random 4 KiB writes, and reads, to do")
	fl.DurationVar(&c.RandTime, "rand-time", 30*time.Second, "stop the random workloads after this long")
	fl.StringVar(&c.RandReadCache, "randread-cache", "cold", "page cache for random reads: cold (dropped, servers restarted) or warm (file read first)")
	fl.IntVar(&c.Files, "files", 10000, "files to create and stat")
	fl.IntVar(&c.Dirs, "dirs", 100, "directories to spread them over")
	fl.Var(&c.FileSize, "file-size", "size of each created file")
	fl.StringVar(&c.UntarSrc, "untar-src", "/usr/local/go/src", "directory to tar once and untar on each target")
	fl.Var(&c.MemSize, "mem-size", "file written to cairn while sampling its peak RSS")
	fl.BoolVar(&c.Writeback, "writeback", false, "enable the kernel writeback cache on both FUSE mounts")
	fl.DurationVar(&c.Settle, "settle", 0, "after a FUSE server restarts for a cold-cache run, wait this long before measuring\n(cairn scans its chunk store in the background at start)")
	fl.StringVar(&c.CairnBin, "cairn-bin", "", "use this cairn binary instead of building ./cmd/cairn")
	fl.StringVar(&c.JSON, "json", "", "also write the results to this JSON file")
	fl.StringVar(&c.CPUProfile, "cpuprofile-cairn", "", "write a CPU profile of the cairn server during -profile to this file")
	fl.StringVar(&c.Trace, "trace-cairn", "", "also write an execution trace of the cairn server during -profile to this file\n(go tool trace -pprof=syscall|sync|sched FILE shows where it waits)")
	fl.StringVar(&c.Profile, "profile", "", "workload(s) to profile cairn during, comma-separated ("+strings.Join(workloadNames, ", ")+")")
	fl.IntVar(&c.ProfileSeconds, "profile-seconds", 30, "length of each CPU profile and trace")
	if err := fl.Parse(args); err != nil {
		return nil, err
	}
	if fl.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	set := map[string]bool{}
	fl.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.Quick {
		c.scaleDown(set)
	}
	return c, c.validate()
}

// scaleDown divides the sizes the user did not set by 8.
func (c *config) scaleDown(set map[string]bool) {
	for name, p := range map[string]*runenv.ByteSize{"seq-size": &c.SeqSize, "rand-size": &c.RandSize, "mem-size": &c.MemSize} {
		if !set[name] {
			*p /= 8
		}
	}
	for name, p := range map[string]*int{"rand-ops": &c.RandOps, "files": &c.Files, "dirs": &c.Dirs} {
		if !set[name] {
			*p /= 8
		}
	}
	if !set["untar-src"] {
		c.UntarSrc = "/usr/local/go/src/crypto" // ~1/10 of the tree
	}
}

// validate checks the flags against each other.
func (c *config) validate() error {
	for _, t := range runenv.List(c.Targets) {
		if !slices.Contains(targetNames, t) {
			return fmt.Errorf("-targets: unknown target %q (want %v)", t, targetNames)
		}
	}
	for _, w := range append(runenv.List(c.Workloads), runenv.List(c.Profile)...) {
		if !slices.Contains(workloadNames, w) {
			return fmt.Errorf("unknown workload %q (want %v)", w, workloadNames)
		}
	}
	switch {
	case c.RandReadCache != "cold" && c.RandReadCache != "warm":
		return fmt.Errorf("-randread-cache: want cold or warm, not %q", c.RandReadCache)
	case (c.CPUProfile == "" && c.Trace == "") != (c.Profile == ""):
		return fmt.Errorf("-profile goes with -cpuprofile-cairn or -trace-cairn")
	case c.Profile != "" && !slices.Contains(runenv.List(c.Targets), "cairn"):
		return fmt.Errorf("-profile needs the cairn target")
	case slices.ContainsFunc(runenv.List(c.Targets), isNFS) && !slices.Contains(runenv.List(c.Targets), "cairn"):
		return fmt.Errorf("the NFS targets need the cairn target (its server runs the gateway)")
	case c.Block < 4096 || c.Block%8 != 0 || c.FileSize%8 != 0:
		return fmt.Errorf("-block must be at least 4 KiB, and sizes multiples of 8")
	case c.RandSize < 4096 || c.Files < 1 || c.Dirs < 1 || c.RandOps < 1 || c.SeqSize < 1 || c.MemSize < 1:
		return fmt.Errorf("sizes and counts must be positive (-rand-size at least 4 KiB)")
	}
	return nil
}
