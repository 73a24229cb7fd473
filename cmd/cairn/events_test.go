package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEvents checks that `cairn events` shows what the daemon logged, and
// that without a daemon it says where the history lives.
func TestEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts a server and runs the CLI")
	}
	base, err := os.MkdirTemp("", "cairn-events-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	tr := &tour{t: t, data: filepath.Join(base, "data")}
	tr.run("volume", "create", "before")
	tr.fails("lives in the daemon", "events")
	startCairn(t, "server.log", "--data", tr.data, "server", "--no-nfs", "--metrics", freeAddr(t))
	waitAPI(t, tr)
	tr.run("volume", "create", "web")
	out := tr.run("events")
	if !strings.Contains(out, "INFO   volume created id=") || !strings.Contains(out, "volume=web") {
		t.Fatalf("cairn events:\n%s", out)
	}
	if strings.Contains(out, "volume=before") {
		t.Fatalf("cairn events shows an event of another process:\n%s", out)
	}
	if out := tr.run("events", "--limit", "1"); strings.Count(out, "\n") != 1 || !strings.Contains(out, "volume=web") {
		t.Fatalf("cairn events --limit 1: want the newest event only:\n%s", out)
	}
	var resp struct {
		Events []struct {
			Level, Message string
			Attrs          map[string]string
		}
	}
	tr.runJSON(&resp, "events")
	if n := len(resp.Events); n == 0 || resp.Events[n-1].Message != "volume created" || resp.Events[n-1].Attrs["volume"] != "web" {
		t.Fatalf("cairn events --json: %+v", resp)
	}
	resp.Events = nil
	tr.runJSON(&resp, "events", "--level", "warn")
	for _, e := range resp.Events {
		if e.Level == "info" {
			t.Fatalf("cairn events --level warn shows %+v", e)
		}
	}
	tr.fails("--level", "events", "--level", "loud")

	// --follow prints the events that come, and stops cleanly on SIGINT.
	cmd := cairnCommand(t, "--data", tr.data, "events", "--follow", "--limit", "1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("cairn events --follow ended")
			}
			return l
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatal("cairn events --follow printed nothing for a minute")
		}
		return ""
	}
	if l := next(); !strings.Contains(l, "volume=web") {
		t.Fatalf("first line %q: want the newest event", l)
	}
	tr.run("volume", "create", "later")
	for l := next(); !strings.Contains(l, "volume=later"); l = next() {
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("cairn events --follow, interrupted: %v", err)
	}
}
