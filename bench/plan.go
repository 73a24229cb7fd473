package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"
)

// goal is what cairn should achieve on a workload.
type goal struct {
	// Ratio bounds cairn's figure over loopback's: at least Ratio for
	// rates, at most Ratio for times.
	Ratio float64 `json:"ratio,omitempty"`
	// Max bounds cairn's own figure (memory).
	Max float64 `json:"max,omitempty"`
	// NFS bounds below the best NFS figure over cairn's FUSE figure.
	NFS float64 `json:"nfs_ratio,omitempty"`
}

// workload is one measured operation, run on every target in turn.
type workload struct {
	name          string // short key for -workloads and -profile
	title         string // the table's row label
	unit          string
	lowerIsBetter bool
	goal          goal
	cold          bool   // drop caches and restart the servers before each target's run
	only          string // run on this target only; "" for all
	// prepare (optional) makes the workload's input, outside the clock.
	prepare func(ctx context.Context, t *target) error
	run     func(ctx context.Context, t *target) (*measurement, error)
	// nfs and nfsCp (optional) run the workload on the NFS targets, with
	// go-nfs-client and nfs-cp; prepare still works through t.dir.
	nfs, nfsCp func(ctx context.Context, t *target) (*measurement, error)
	// finish (optional) runs once all targets are done.
	finish func()
}

// runner returns how w runs on t, or nil if it does not.
func (w *workload) runner(t *target) func(ctx context.Context, t *target) (*measurement, error) {
	switch {
	case t.name == "nfs":
		return w.nfs
	case t.name == "nfs-cp":
		return w.nfsCp
	case w.only != "" && w.only != t.name:
		return nil
	}
	return w.run
}

// workloadNames are the workloads in the order they run.
var workloadNames = []string{"seqwrite", "seqread", "randwrite", "randread", "create", "stat", "untar", "rm", "memory"}

// plan returns the workloads of cfg. tarPath is the tar of cfg.UntarSrc
// with tarEntries entries; root is the run's temporary directory.
func plan(cfg *config, root, tarPath string, tarEntries int) []*workload {
	p := newPattern(1)
	rs := randSpec{Size: int64(cfg.RandSize), Ops: cfg.RandOps, MaxTime: cfg.RandTime, Block: 4 << 10, Warm: cfg.RandReadCache == "warm"}
	ts := treeSpec{Files: cfg.Files, Dirs: cfg.Dirs, FileSize: int(cfg.FileSize)}
	block := int(cfg.Block)
	var seqData []byte                              // generated once, written to every target
	seqSrc := filepath.Join(root, "nfs-cp-src.dat") // seqData on the local disk, for nfs-cp
	cache := "cold cache"
	if rs.Warm {
		cache = "warm cache"
	}
	return []*workload{{
		name: "seqwrite", unit: "MiB/s", goal: goal{Ratio: 0.6, NFS: 0.7},
		title: fmt.Sprintf("seq write %s (%s blocks) + fsync", cfg.SeqSize.String(), cfg.Block.String()),
		prepare: func(_ context.Context, t *target) error {
			if seqData == nil {
				seqData = make([]byte, cfg.SeqSize)
				p.fillAll(seqData, block, 0)
			}
			if t.name == "nfs-cp" {
				return os.WriteFile(seqSrc, seqData, 0o644)
			}
			return nil
		},
		run: func(ctx context.Context, t *target) (*measurement, error) {
			return seqWrite(ctx, t.dir, seqData, block)
		},
		nfs: func(ctx context.Context, t *target) (*measurement, error) {
			return nfsSeqWrite(ctx, t, seqData, block)
		},
		nfsCp: func(ctx context.Context, t *target) (*measurement, error) {
			return nfsCpWrite(ctx, t, seqSrc, int64(len(seqData)))
		},
		finish: func() { seqData = nil; _ = os.Remove(seqSrc); debug.FreeOSMemory() },
	}, {
		name: "seqread", unit: "MiB/s", goal: goal{Ratio: 0.7, NFS: 0.7}, cold: true,
		title: fmt.Sprintf("seq read %s, cold cache", cfg.SeqSize.String()),
		prepare: func(ctx context.Context, t *target) error {
			return prepareFile(ctx, filepath.Join(t.dir, seqFile), int64(cfg.SeqSize), p)
		},
		run: func(ctx context.Context, t *target) (*measurement, error) {
			return seqRead(ctx, t.dir, int64(cfg.SeqSize), block)
		},
		nfs: func(ctx context.Context, t *target) (*measurement, error) {
			return nfsSeqRead(ctx, t, int64(cfg.SeqSize), block)
		},
		nfsCp: func(ctx context.Context, t *target) (*measurement, error) {
			return nfsCpRead(ctx, t, int64(cfg.SeqSize))
		},
	}, {
		name: "randwrite", unit: "IOPS", goal: goal{Ratio: 0.5},
		title: fmt.Sprintf("rand 4K write (%s file) + fsync", cfg.RandSize.String()),
		prepare: func(ctx context.Context, t *target) error {
			return prepareFile(ctx, filepath.Join(t.dir, randFile), rs.Size, p)
		},
		run: func(ctx context.Context, t *target) (*measurement, error) { return randWrite(ctx, t.dir, rs, p) },
	}, {
		name: "randread", unit: "IOPS", goal: goal{Ratio: 0.5}, cold: !rs.Warm,
		title: fmt.Sprintf("rand 4K read (%s file), %s", cfg.RandSize.String(), cache),
		prepare: func(ctx context.Context, t *target) error {
			return prepareFile(ctx, filepath.Join(t.dir, randFile), rs.Size, p)
		},
		run: func(ctx context.Context, t *target) (*measurement, error) { return randRead(ctx, t.dir, rs) },
	}, {
		name: "create", unit: "files/s", goal: goal{Ratio: 0.5},
		title: fmt.Sprintf("create %d × %s files in %d dirs", ts.Files, cfg.FileSize.String(), ts.Dirs),
		run:   func(ctx context.Context, t *target) (*measurement, error) { return createFiles(ctx, t.dir, ts, p) },
		nfs:   func(ctx context.Context, t *target) (*measurement, error) { return nfsCreateFiles(ctx, t, ts, p) },
	}, {
		name: "stat", unit: "stats/s", goal: goal{Ratio: 0.7}, cold: true,
		title:   fmt.Sprintf("stat %d files, cold cache", ts.Files),
		prepare: func(ctx context.Context, t *target) error { return prepareTree(ctx, t.dir, ts, p) },
		run:     func(ctx context.Context, t *target) (*measurement, error) { return statFiles(ctx, t.dir, ts) },
		nfs:     func(ctx context.Context, t *target) (*measurement, error) { return nfsStatFiles(ctx, t, ts) },
	}, {
		name: "untar", unit: "s", lowerIsBetter: true, goal: goal{Ratio: 2},
		title: fmt.Sprintf("untar %s (%d entries)", cfg.UntarSrc, tarEntries),
		run:   func(ctx context.Context, t *target) (*measurement, error) { return untar(ctx, t.dir, tarPath) },
	}, {
		name: "rm", unit: "s", lowerIsBetter: true, goal: goal{Ratio: 2},
		title:   "rm -rf of the untarred tree",
		prepare: func(ctx context.Context, t *target) error { return prepareUntar(ctx, t.dir, tarPath) },
		run:     func(ctx context.Context, t *target) (*measurement, error) { return removeTree(ctx, t.dir) },
	}, {
		name: "memory", unit: "MiB", lowerIsBetter: true, goal: goal{Max: 512}, cold: true, only: "cairn",
		title: fmt.Sprintf("cairn peak RSS writing %s", cfg.MemSize.String()),
		run: func(ctx context.Context, t *target) (*measurement, error) {
			return memoryWrite(ctx, t, int64(cfg.MemSize), block, p)
		},
	}}
}

// memoryWrite writes size bytes to t's memFile while sampling the peak
// RSS of t's server every 100 ms; the figure is the peak VmHWM in MiB.
func memoryWrite(ctx context.Context, t *target, size int64, block int, p *pattern) (*measurement, error) {
	pid := t.srv.pid()
	s := sampleRSS(pid, 100*time.Millisecond)
	start := time.Now()
	err := writeFile(ctx, filepath.Join(t.dir, memFile), size, block, p)
	d := time.Since(start)
	peak := s.stop(pid)
	if err != nil {
		return nil, err
	}
	m := throughput(size, d)
	m.Value = float64(peak.HWM) / mib
	m.Note = fmt.Sprintf("VmHWM %.0f MiB, max sampled VmRSS %.0f MiB (%d samples); wrote at %.0f MiB/s",
		float64(peak.HWM)/mib, float64(peak.MaxRSS)/mib, peak.Samples, float64(size)/mib/d.Seconds())
	return m, nil
}
