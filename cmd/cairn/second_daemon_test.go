package main

import (
	"strings"
	"testing"
)

// A second daemon on a data directory that one owns fails with a clear
// error naming the owner, and the first keeps serving.
func TestSecondDaemonRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts a server")
	}
	tr := startTour(t)
	cmd := cairnCommand(t, "--data", tr.data, "--lock-wait", "1s", "server", "--volume", "default",
		"--no-nfs", "--metrics", freeAddr(t))
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("a second server on %s started:\n%s", tr.data, out)
	}
	if !strings.Contains(string(out), "in use by") || !strings.Contains(string(out), "pid") {
		t.Fatalf("second server: %v; want an error naming the owner's pid:\n%s", err, out)
	}
	if s := tr.run("status"); !strings.Contains(s, "health:   ok") {
		t.Fatalf("the first daemon after the refused second one:\n%s", s)
	}
	if s := tr.run("volume", "list"); !strings.Contains(s, "default") {
		t.Fatalf("volume list:\n%s", s)
	}
}
