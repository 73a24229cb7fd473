// Command bench is cairn's end-to-end benchmark. It runs the same
// workloads, in one run, on a plain directory of the local disk, on a
// go-fuse loopback (passthrough) mount of a plain directory, and on a
// cairn FUSE mount of a fresh data dir; then prints each figure, cairn's
// ratio to loopback against its target, and loopback's ratio to plain.
// The NFS targets reach the same cairn volume through the NFS gateway of
// the same cairn process (`cairn server --mount --nfs-listen`), with a
// userspace client (go-nfs-client) and with libnfs's nfs-cp; their best
// figure is compared with cairn's FUSE figure of the same run.
//
// Each workload runs on the three targets one after the other before the
// next workload starts, so that load from other processes spreads over
// all three. Both FUSE mounts use the same kernel settings (allow_other,
// default_permissions, direct mount as root, 1 MiB MaxWrite, 128 KiB
// readahead, 1 s attribute and entry timeouts) and each is served by a
// process of its own: bin/cairn, built from ./cmd/cairn, and this binary
// re-executed as the loopback server.
//
// Usage (as root):
//
//	go run ./bench [-quick] [-json FILE] [-profile WORKLOAD -cpuprofile-cairn FILE]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/cairn-storage/cairn/bench/runenv"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == serveLoopbackFlag {
		if err := serveLoopback(os.Args[2:]); err != nil {
			log.Fatal(err)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := &bench{cfg: cfg, rep: &report{Start: time.Now(), Config: cfg}}
	stopSignals := b.handleSignals(cancel)
	err = b.run(ctx)
	err = errors.Join(err, b.finish(ctx.Err() == nil))
	stopSignals()
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "bench: interrupted")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// bench is one run.
type bench struct {
	cfg      *config
	rep      *report
	root     string // the temporary directory
	cairnBin string
	tarPath  string
	entries  int // in the tar

	mu      sync.Mutex
	targets []*target
}

// handleSignals makes the first SIGINT/SIGTERM cancel ctx (the run stops
// and cleans up) and a second one detach the mounts and exit at once.
func (b *bench) handleSignals(cancel context.CancelFunc) (stop func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			fmt.Fprintf(os.Stderr, "\nbench: %v: stopping and unmounting (again to force)\n", s)
			cancel()
		case <-done:
			return
		}
		select {
		case <-sigs:
			b.mu.Lock()
			for _, t := range b.targets {
				if t.srv != nil {
					_ = forceUnmount(t.srv.mnt)
				}
			}
			os.Exit(130) // the servers get SIGTERM (Pdeathsig)
		case <-done:
		}
	}()
	return func() { signal.Stop(sigs); close(done) }
}

// run sets up the targets and runs the workloads.
func (b *bench) run(ctx context.Context) error {
	cfg := b.cfg
	if os.Geteuid() != 0 {
		b.rep.warn("not root: caches can't be dropped and FUSE mounts need fusermount3")
	}
	b.rep.Host = runenv.Start()
	root, err := os.MkdirTemp(cfg.Dir, "cairn-bench-")
	if err != nil {
		return err
	}
	b.root = root
	// Mount points must be free of symbolic links to match mountinfo.
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	b.root = real
	fmt.Printf("cairn bench: %s, %d CPUs, %s, load %s; working in %s\n",
		b.rep.Host.Kernel, b.rep.Host.CPUs, b.rep.Host.GoVersion, b.rep.Host.LoadStart, b.root)
	if err := mkdirs(filepath.Join(b.root, "logs")); err != nil {
		return err
	}
	targets, workloads := runenv.List(cfg.Targets), runenv.List(cfg.Workloads)
	if slices.Contains(workloads, "untar") || slices.Contains(workloads, "rm") {
		b.tarPath = filepath.Join(b.root, "untar-src.tar")
		if b.entries, err = makeTar(ctx, cfg.UntarSrc, b.tarPath); err != nil {
			return err
		}
	}
	if err := b.setup(ctx, targets); err != nil {
		return err
	}
	profiled := runenv.List(cfg.Profile)
	for _, w := range plan(cfg, b.root, b.tarPath, b.entries) {
		if !slices.Contains(workloads, w.name) || (w.only != "" && !slices.Contains(targets, w.only)) {
			continue
		}
		if err := b.runWorkload(ctx, w, profiled); err != nil {
			return err
		}
	}
	return nil
}

// setup creates the targets and starts their servers.
func (b *bench) setup(ctx context.Context, names []string) error {
	for _, name := range targetNames {
		if !slices.Contains(names, name) {
			continue
		}
		var t *target
		var err error
		switch name {
		case "plain":
			t, err = newPlain(b.root)
		case "loopback":
			var self string
			if self, err = os.Executable(); err == nil {
				t, err = newLoopback(b.root, self, b.cfg.Writeback)
			}
		case "cairn":
			t, err = b.setupCairn(ctx, slices.ContainsFunc(names, isNFS))
		case "nfs", "nfs-cp":
			t, err = newNFS(b.targets[slices.IndexFunc(b.targets, func(t *target) bool { return t.name == "cairn" })], name)
		}
		if err != nil {
			return fmt.Errorf("set up %s: %w", name, err)
		}
		b.mu.Lock()
		b.targets = append(b.targets, t)
		b.mu.Unlock()
		if t.srv != nil && !isNFS(name) {
			if err := t.srv.start(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// setupCairn builds (unless -cairn-bin) and prepares the cairn target,
// with the NFS gateway in the same process if nfs.
func (b *bench) setupCairn(ctx context.Context, nfs bool) (*target, error) {
	b.cairnBin = b.cfg.CairnBin
	if b.cairnBin == "" {
		fmt.Println("building ./cmd/cairn ...")
		var err error
		if b.cairnBin, err = buildCairn(ctx, b.root); err != nil {
			return nil, err
		}
	}
	c := cairnSetup{bin: b.cairnBin, data: filepath.Join(b.root, "cairn-data"), writeback: b.cfg.Writeback}
	var err error
	if b.cfg.Profile != "" {
		if c.metricsAddr, err = freeLocalAddr(); err != nil {
			return nil, err
		}
	}
	if nfs {
		if c.nfsAddr, err = freeLocalAddr(); err != nil {
			return nil, err
		}
	}
	return newCairn(ctx, b.root, c)
}

// finish stops the servers, collects cairn's stats, prints the table,
// writes the JSON and removes the temporary directory (unless -keep).
func (b *bench) finish(stats bool) error {
	var errs []error
	b.mu.Lock()
	targets := b.targets
	b.mu.Unlock()
	stopped := map[*server]bool{} // the NFS targets share cairn's
	for i := len(targets) - 1; i >= 0; i-- {
		if t := targets[i]; t.srv != nil && !stopped[t.srv] {
			stopped[t.srv] = true
			if err := t.srv.stop(); err != nil {
				errs = append(errs, fmt.Errorf("stop %s: %w", t.name, err))
			}
		}
	}
	if stats && b.cairnBin != "" && b.root != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		s, err := cairnStats(ctx, b.cairnBin, filepath.Join(b.root, "cairn-data"))
		cancel()
		if err != nil {
			errs = append(errs, err)
		}
		b.rep.CairnStats = s
	}
	b.rep.Host.Finish()
	b.rep.Seconds = time.Since(b.rep.Start).Seconds()
	if len(b.rep.Rows) > 0 {
		b.printSummary()
	}
	if b.cfg.JSON != "" {
		if err := b.rep.writeJSON(b.cfg.JSON); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, b.removeRoot(targets))
	return errors.Join(errs...)
}

// removeRoot deletes the temporary directory, unless -keep or a mount is
// still there (RemoveAll would descend into it).
func (b *bench) removeRoot(targets []*target) error {
	if b.root == "" {
		return nil
	}
	for _, t := range targets {
		if t.srv != nil && isFUSEMounted(t.srv.mnt) {
			return fmt.Errorf("%s is still mounted: left %s in place", t.srv.mnt, b.root)
		}
	}
	if b.cfg.Keep {
		fmt.Printf("kept %s\n", b.root)
		return nil
	}
	return os.RemoveAll(b.root)
}
