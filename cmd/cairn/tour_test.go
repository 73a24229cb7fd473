package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tour is a running `cairn server` (as `make run` starts it) and a way to
// run CLI commands against it from other processes.
type tour struct {
	t    *testing.T
	data string
	mnt  string
	nfs  string
}

// startTour starts `cairn server` with a FUSE mount of volume default and
// NFS on a free port, and waits until the mount and the API answer.
func startTour(t *testing.T) *tour {
	t.Helper()
	base, err := os.MkdirTemp("", "cairn-tour-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	tr := &tour{t: t, data: filepath.Join(base, "data"), mnt: filepath.Join(base, "mnt"), nfs: freeAddr(t)}
	if err := os.MkdirAll(tr.mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	startCairn(t, "server.log", "--data", tr.data, "server", "--volume", "default", "--mount", tr.mnt,
		"--nfs-listen", tr.nfs, "--metrics", freeAddr(t))
	waitMounted(t, tr.mnt)
	waitAPI(t, tr)
	return tr
}

// waitAPI waits until the daemon of tr.data answers.
func waitAPI(t *testing.T, tr *tour) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := tr.try("status"); err == nil {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("the daemon's API does not answer: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// try runs `cairn --data DATA args...` and returns its standard output.
func (tr *tour) try(args ...string) (string, error) {
	cmd := cairnCommand(tr.t, append([]string{"--data", tr.data}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("cairn %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// run runs a command that must succeed.
func (tr *tour) run(args ...string) string {
	tr.t.Helper()
	out, err := tr.try(args...)
	if err != nil {
		tr.t.Fatal(err)
	}
	return out
}

// fails runs a command that must fail with a message containing want.
func (tr *tour) fails(want string, args ...string) {
	tr.t.Helper()
	_, err := tr.try(args...)
	if err == nil {
		tr.t.Fatalf("cairn %s succeeded; want a failure saying %q", strings.Join(args, " "), want)
	}
	if !strings.Contains(err.Error(), want) {
		tr.t.Fatalf("cairn %s: got %v; want a failure saying %q", strings.Join(args, " "), err, want)
	}
}

// runJSON runs a command with --json and decodes its output into v.
func (tr *tour) runJSON(v any, args ...string) {
	tr.t.Helper()
	out := tr.run(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		tr.t.Fatalf("cairn %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// mountDir returns a new empty directory to mount on.
func (tr *tour) mountDir(name string) string {
	dir := filepath.Join(filepath.Dir(tr.mnt), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tr.t.Fatal(err)
	}
	return dir
}
