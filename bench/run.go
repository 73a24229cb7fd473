package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/cairn-storage/cairn/bench/runenv"
)

// runWorkload runs w on every target in turn and prints the figures and
// ratios. A failure on one target is recorded (and its server restarted)
// and the run goes on; only an interrupt stops it.
func (b *bench) runWorkload(ctx context.Context, w *workload, profiled []string) error {
	r := newRow(w)
	b.rep.Rows = append(b.rep.Rows, r)
	fmt.Printf("\n== %s\n", w.title)
	for _, t := range b.targets {
		if w.runner(t) == nil {
			continue
		}
		if t.dead != nil {
			r.Results[t.name] = &measurement{Err: "target down: " + t.dead.Error()}
			continue
		}
		m, err := b.measure(ctx, w, t, slices.Contains(profiled, w.name), len(profiled) > 1)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			m = &measurement{Err: err.Error()}
			b.rep.warn("%s on %s: %v", w.name, t.name, err)
			warning, err := t.restart(ctx)
			if warning != nil {
				b.rep.warn("restarting %s: %v", t.name, warning)
			}
			if err != nil {
				t.dead = err
				b.rep.warn("%s is down for the rest of the run: %v", t.name, err)
			}
		}
		r.Results[t.name] = m
		printMeasurement(t.name, r.Unit, m)
	}
	if w.finish != nil {
		w.finish()
	}
	r.evaluate()
	fmt.Printf("  loopback/plain %s   cairn/loopback %s   target %s: %s\n",
		ratioText(r.LoopbackOverPlain), ratioText(r.CairnOverLoopback), r.goalText(), metText(r.Met))
	if r.hasNFS() {
		fmt.Printf("  NFS (best client)/cairn FUSE %s   target %s: %s\n",
			ratioText(r.NFSOverCairn), r.nfsGoalText(), metText(r.NFSMet))
	}
	return nil
}

// measure prepares w's input on t, makes t's caches cold if w asks,
// and runs w, with a CPU profile of cairn if asked.
func (b *bench) measure(ctx context.Context, w *workload, t *target, profile, several bool) (*measurement, error) {
	if w.prepare != nil {
		if err := w.prepare(ctx, t); err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
	}
	if w.cold {
		warnings, err := t.coldStart(ctx)
		for _, warning := range warnings {
			b.rep.warn("%s: cold start of %s: %v", w.name, t.name, warning)
		}
		if err != nil {
			return nil, err
		}
	}
	// Nothing an earlier step left dirty may be written back on this
	// run's time, and a freshly started server may settle first.
	syscall.Sync()
	if w.cold && t.srv != nil && b.cfg.Settle > 0 {
		select {
		case <-time.After(b.cfg.Settle):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	run := w.runner(t)
	if !profile || t.srv == nil || t.srv.metricsAddr() == "" {
		return run(ctx, t)
	}
	type fetch struct {
		path string
		wait func() error
	}
	var fetches []fetch
	secs, addr := b.cfg.ProfileSeconds, t.srv.metricsAddr()
	fmt.Printf("  (profiling cairn for %d s)\n", secs)
	name := w.name
	if t.name != "cairn" { // the same server, through its NFS gateway
		name, several = t.name+"."+w.name, true
	}
	for endpoint, base := range map[string]string{"profile": b.cfg.CPUProfile, "trace": b.cfg.Trace} {
		if base != "" {
			path := profilePath(base, name, several)
			fetches = append(fetches, fetch{path, startFetch(ctx, addr, endpoint, secs, path)})
		}
	}
	m, err := run(ctx, t)
	for _, f := range fetches {
		if perr := f.wait(); perr != nil {
			b.rep.warn("%s: %v", w.name, perr)
			continue
		}
		b.rep.Profiles = append(b.rep.Profiles, f.path)
		if m != nil {
			m.Note = strings.TrimPrefix(m.Note+"; "+f.path, "; ")
		}
	}
	return m, err
}

// printMeasurement prints one target's figure.
func printMeasurement(target, unit string, m *measurement) {
	if m.Err != "" {
		fmt.Printf("  %-9s error: %s\n", target, firstLine(m.Err))
		return
	}
	fmt.Printf("  %-9s %14s", target, formatValue(m.Value, unit))
	if unit != "s" {
		fmt.Printf("  (%.2f s)", m.Seconds)
	}
	if m.Note != "" {
		fmt.Printf("  %s", m.Note)
	}
	fmt.Println()
}

// metText prints whether a goal was met.
func metText(met *bool) string {
	switch {
	case met == nil:
		return "n/a"
	case *met:
		return "met"
	}
	return "NOT MET"
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// printSummary prints the final table, the notes needed to read it and
// cairn's stats.
func (b *bench) printSummary() {
	cfg, h := b.cfg, b.rep.Host
	fmt.Printf("\n## cairn end-to-end benchmark\n\n")
	b.rep.writeTable(os.Stdout)
	b.rep.writeNFSTable(os.Stdout)
	cache := "cold: the file is opened on a freshly restarted server after drop_caches"
	if cfg.RandReadCache == "warm" {
		cache = "warm: the file is read whole through the same descriptor first"
	}
	fmt.Printf("\n- %s, %d CPUs, %s; one run, workloads interleaved across targets; load average %s at start, %s at end.\n",
		h.Kernel, h.CPUs, h.GoVersion, h.LoadStart, h.LoadEnd)
	fmt.Printf("- sync(2) before every measurement. Cold cache: drop_caches and the FUSE server restarted (remount), then %v settling. Random reads: pread at random 4 KiB-aligned offsets with POSIX_FADV_RANDOM; page cache %s.\n", cfg.Settle, cache)
	fmt.Printf("- Random workloads: up to %d ops or %v each; the write figure includes the final fsync. Data is incompressible and never repeats (no dedup possible).\n",
		cfg.RandOps, cfg.RandTime)
	if slices.ContainsFunc(runenv.List(cfg.Targets), isNFS) {
		fmt.Printf("- NFS: cairn server serves the FUSE mount and the NFSv3 gateway (127.0.0.1, TCP) of the same volume; a cold start restarts that process. go-nfs-client sends one RPC at a time (no pipelining); its File.Write would send FILE_SYNC WRITEs, so the bench sends UNSTABLE WRITEs of the gateway's wtpref through its RPC layer and one COMMIT; reads use its File.Read (READ of min(rtmax, block)). nfs-cp (libnfs) writes from a local file in the page cache, and libnfs's nfs-cat reads into a pipe the bench drains; their figures include process start and MOUNT.\n")
	}
	fmt.Printf("- untar and rm are seconds (lower is better); their cairn/loopback is a time ratio. FUSE writeback cache: %v.\n", cfg.Writeback)
	for _, w := range b.rep.Warnings {
		fmt.Printf("- warning: %s\n", firstLine(w))
	}
	if len(b.rep.CairnStats) > 0 {
		var out bytes.Buffer
		if json.Indent(&out, b.rep.CairnStats, "", "  ") == nil {
			fmt.Printf("\ncairn stats --json after the run:\n%s\n", out.String())
		}
	}
}
