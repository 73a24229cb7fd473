package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The control socket admits its owner, and with --socket-group that
// group; anyone else gets a clear error and the command does not fall
// back to opening the data directory itself.
func TestSocketPermissions(t *testing.T) {
	base := otherUserDir(t, "cairn-sock-")
	run := filepath.Join(base, "run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	data, sock := filepath.Join(base, "data"), filepath.Join(run, "cairn.sock")
	tr := &tour{t: t, data: data}
	startCairn(t, "server.log", "--data", data, "server", "--socket", sock, "--socket-group", "nogroup",
		"--no-nfs", "--volume", "v", "--metrics", freeAddr(t))
	waitFor(t, func() bool { _, err := os.Stat(sock); return err == nil })
	tests := []struct {
		name     string
		gid      uint32
		ok       bool
		contains string
	}{
		{"in the socket's group", 65534, true, "v "},
		{"in no allowed group", 65533, false, "--socket-group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := cairnCommand(t, "--data", data, "--socket", sock, "volume", "list")
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: tt.gid}}
			out, err := cmd.CombinedOutput()
			if (err == nil) != tt.ok || !strings.Contains(string(out), tt.contains) {
				t.Fatalf("as uid 65534 gid %d: %v\n%s", tt.gid, err, out)
			}
		})
	}
	if out := tr.run("--socket", sock, "volume", "list"); !strings.Contains(out, "v ") {
		t.Fatalf("the owner's volume list:\n%s", out)
	}
}

// waitFor polls cond for up to a minute.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
