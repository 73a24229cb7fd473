// Command cluster benchmarks cairn's clustered chunk store on loopback,
// with real components in one process: cluster.Start nodes on
// 127.0.0.1 (serf gossip, chunk RPC over mutual TLS), each over its own
// chunks.Local in a temporary directory.
//
// It measures, in one run:
//
//   - sequential write and read throughput of a plain chunks.Local, of a
//     1-node cluster through its Store, and of 3-node clusters with R=3
//     and R=2, with one writer and with three (one per node); each
//     cluster figure is also given as a ratio to the plain local store
//     with as many writers. A write is hash + Put of every chunk (depth
//     at a time, as fs does) then Sync; the read Gets every chunk back
//     through another node than the one that wrote it.
//   - the same through the file system core: one big file written in
//     1 MiB writes and fsynced through an fs.FS (badger metadata, chunk
//     cache, as package datadir wires it) over a plain chunks.Local and
//     over a 3-node R=3 cluster, then read back after reopening.
//   - repair throughput: a 4-node R=3 cluster is filled, one node is
//     lost (closed without drain), and the time until every chunk has 3
//     copies on the survivors again gives GiB/min re-replicated.
//
// The data is random (incompressible, no duplicates) cut by FastCDC
// (chunks.DefaultParams). Every node of a cluster shares the machine's
// CPUs and disk, so a loopback cluster measures the cost of replication
// (CPU s/GiB is printed beside MiB/s), not the scaling of a real one.
// Absolute figures on a shared machine are noise; the ratios, run in one
// process on the same disk, are the result.
//
// Usage:
//
//	go run ./bench/cluster [-quick] [-size 1GiB] [-repair-size SIZE] [-json FILE]
//	go run ./bench/cluster -scenarios r3 -repair=false -cpuprofile cpu.pprof
//	go tool pprof -tagfocus 'scenario=^r3$' cpu.pprof
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/cairn-storage/cairn/bench/runenv"
	"github.com/cairn-storage/cairn/cluster/pki"
)

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/cluster:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	rep := newReport(cfg)
	err = run(ctx, cfg, rep)
	interrupted := ctx.Err() != nil
	stop()
	switch {
	case interrupted:
		fmt.Fprintln(os.Stderr, "bench/cluster: interrupted")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench/cluster:", err)
		os.Exit(1)
	}
}

// run runs the benchmarks, prints the tables and writes the JSON.
func run(ctx context.Context, cfg *config, rep *report) (err error) {
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			err = errors.Join(err, f.Close())
		}()
	}
	root, err := os.MkdirTemp(cfg.Dir, "cairn-cluster-bench-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	defer func() { err = errors.Join(err, os.RemoveAll(root)) }()
	fmt.Printf("cairn cluster bench: %s, %d CPUs, %s, load %s; working in %s\n",
		rep.Host.Kernel, rep.Host.CPUs, rep.Host.GoVersion, rep.Host.LoadStart, root)

	ca, err := pki.NewCA("bench")
	if err != nil {
		return fmt.Errorf("cluster CA: %w", err)
	}
	buf := randomBytes(int64(max(cfg.Size, cfg.RepairSize)))
	streams := make(map[int][]stream) // by writer count
	names := runenv.List(cfg.Scenarios)
	if len(names) > 0 {
		if streams[1], err = split(buf[:cfg.Size], 1, cfg.Chunking); err != nil {
			return err
		}
		fmt.Printf("warm-up: %s through a plain local store (untimed)\n", humanize.IBytes(uint64(cfg.Size)))
		if err := warmUp(ctx, cfg, streams[1], filepath.Join(root, "warm-up")); err != nil {
			return err
		}
	}
	var errs []error
	for _, sc := range scenarios {
		if !slices.Contains(names, sc.Name) {
			continue
		}
		if streams[sc.Writers] == nil {
			if streams[sc.Writers], err = split(buf[:cfg.Size], sc.Writers, cfg.Chunking); err != nil {
				return err
			}
		}
		res, err := runScenario(ctx, cfg, sc, streams[sc.Writers], filepath.Join(root, sc.Name), ca)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			res.Err = err.Error()
			errs = append(errs, err)
		}
		res.printLine(os.Stdout)
		rep.Throughput = append(rep.Throughput, res)
	}
	setRatios(rep.Throughput)

	if cfg.Repair {
		data, err := split(buf[:cfg.RepairSize], cfg.RepairNodes, cfg.Chunking)
		if err != nil {
			return err
		}
		res, err := runRepair(ctx, cfg, data, filepath.Join(root, "repair"), ca)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			res.Err = err.Error()
			errs = append(errs, fmt.Errorf("repair: %w", err))
		}
		res.printLine(os.Stdout)
		rep.Repair = res
	}

	rep.Host.Finish()
	rep.Seconds = time.Since(rep.Start).Seconds()
	rep.writeTables(os.Stdout)
	fmt.Printf("\n%s, %d CPUs, load %s → %s, %.0f s. Absolute figures on a shared machine are noise: compare the ratios.\n",
		rep.Host.Kernel, rep.Host.CPUs, rep.Host.LoadStart, rep.Host.LoadEnd, rep.Seconds)
	if cfg.JSON != "" {
		errs = append(errs, rep.writeJSON(cfg.JSON))
	}
	return errors.Join(errs...)
}
