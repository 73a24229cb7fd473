package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A command prints the same and exits the same whether a daemon owns the
// data directory or the command opens it itself.
func TestSameOutputWithAndWithoutDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts a server and runs the CLI")
	}
	base, err := os.MkdirTemp("", "cairn-same-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	data := filepath.Join(base, "data")
	tr := &tour{t: t, data: data}
	tr.run("volume", "create", "v", "--quota", "1GiB")
	tr.run("snapshot", "create", "v", "s1", "--label", "k=v")
	commands := [][]string{
		{"volume", "list"}, {"volume", "info", "v", "--json"}, {"snapshot", "list", "v"},
		{"snapshot", "info", "v@s1", "--json"}, {"stats", "--json"}, {"snapshot", "diff", "v@s1", "v"},
		{"volume", "info", "nope"}, {"snapshot", "create", "v", "s1"}, {"volume", "create", "../x"},
	}
	without := make([]result, len(commands))
	for i, args := range commands {
		without[i] = runResult(t, data, args)
	}
	tr.mnt, tr.nfs = filepath.Join(base, "mnt"), freeAddr(t)
	if err := os.MkdirAll(tr.mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	startCairn(t, "server.log", "--data", data, "server", "--volume", "v", "--no-nfs", "--metrics", freeAddr(t))
	waitAPI(t, tr)
	for i, args := range commands {
		if with := runResult(t, data, args); with != without[i] {
			t.Errorf("cairn %q without a daemon: %+v\nwith one: %+v", args, without[i], with)
		}
	}
}

// result is what a command printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

func runResult(t *testing.T, data string, args []string) result {
	t.Helper()
	cmd := cairnCommand(t, append([]string{"--data", data, "--log-level", "error"}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}
