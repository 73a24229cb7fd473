package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// cairnVolume is the volume the bench creates in its fresh data dir.
const cairnVolume = "bench"

// goTool returns the go command: the one on PATH, else the one of the
// toolchain in /usr/local/go.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

// buildCairn builds ./cmd/cairn of the enclosing module into dir, as
// `make build` does, and returns the binary's path.
func buildCairn(ctx context.Context, dir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, goTool(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(gomod))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the cairn module: run from the repository or pass -cairn-bin")
	}
	bin := filepath.Join(dir, "cairn")
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", bin, "./cmd/cairn")
	cmd.Dir = filepath.Dir(mod)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/cairn: %w\n%s", err, out)
	}
	return bin, nil
}

// cairnCLI runs bin --data data ARGS... and returns its standard output.
func cairnCLI(ctx context.Context, bin, data string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, append([]string{"--data", data, "--log-level", "warn"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("cairn %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// cairnStats returns `cairn stats --json` of the data dir; no mount may
// hold the data dir then.
func cairnStats(ctx context.Context, bin, data string) (json.RawMessage, error) {
	out, err := cairnCLI(ctx, bin, data, "stats", "--json")
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("cairn stats --json: %w", err)
	}
	return raw, nil
}

// freeLocalAddr returns a 127.0.0.1 address with a port free right now.
func freeLocalAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// mkdirs creates each directory (and parents).
func mkdirs(dirs ...string) error {
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// newPlain returns the plain-directory target under root.
func newPlain(root string) (*target, error) {
	dir := filepath.Join(root, "plain")
	return &target{name: "plain", dir: dir}, mkdirs(dir)
}

// newLoopback returns the loopback target under root: self (this
// binary) re-executed with serveLoopbackFlag passes root/loopback-src
// through at root/loopback-mnt. It is not started.
func newLoopback(root, self string, writeback bool) (*target, error) {
	src, mnt := filepath.Join(root, "loopback-src"), filepath.Join(root, "loopback-mnt")
	argv := []string{self, serveLoopbackFlag}
	if writeback {
		argv = append(argv, "-writeback")
	}
	argv = append(argv, src, mnt)
	srv := &server{name: "loopback", mnt: mnt, argv: argv, logPath: filepath.Join(root, "logs", "loopback.log")}
	return &target{name: "loopback", dir: mnt, srv: srv}, mkdirs(src, mnt)
}

// cairnSetup says how to serve the cairn target.
type cairnSetup struct {
	bin, data   string
	writeback   bool
	metricsAddr string // with pprof; empty: no metrics endpoint
	nfsAddr     string // also serve NFS here; empty: FUSE only
}

// newCairn creates a volume in a fresh data dir and returns the cairn
// target under root, served by `cairn mount`, or with c.nfsAddr by `cairn
// server`, which serves the same volume over FUSE and NFS from one
// process. It is not started.
func newCairn(ctx context.Context, root string, c cairnSetup) (*target, error) {
	mnt := filepath.Join(root, "cairn-mnt")
	if err := mkdirs(c.data, mnt); err != nil {
		return nil, err
	}
	if _, err := cairnCLI(ctx, c.bin, c.data, "volume", "create", cairnVolume); err != nil {
		return nil, err
	}
	// urfave/cli stops at the first argument: flags go before it.
	argv := []string{c.bin, "--data", c.data, "mount"}
	if c.nfsAddr != "" {
		argv = []string{c.bin, "--data", c.data, "server", "--volume", cairnVolume, "--mount", mnt,
			"--nfs-listen", c.nfsAddr, "--export", "*,rw,no_root_squash", "--no-snapshot-scheduler"} // NFS as root, as on FUSE
	}
	if c.writeback {
		argv = append(argv, "--writeback")
	}
	if c.metricsAddr != "" {
		argv = append(argv, "--metrics", c.metricsAddr, "--pprof")
	}
	if c.nfsAddr == "" {
		argv = append(argv, cairnVolume, mnt)
	}
	srv := &server{name: "cairn", mnt: mnt, argv: argv, logPath: filepath.Join(root, "logs", "cairn.log"), nfsAddr: c.nfsAddr}
	return &target{name: "cairn", dir: mnt, srv: srv}, nil
}
