package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// TestListenersCSISocket starts the CSI plugin on a unix socket in a
// directory everyone may enter: the socket is its owner's alone (0600),
// so another user's connection is refused by the kernel, while its owner
// (the kubelet, root) is served.
func TestListenersCSISocket(t *testing.T) {
	base := otherUserDir(t, "cairn-csi-sock-")
	sock := filepath.Join(base, "csi.sock")
	startCairn(t, "csi.log", "csi", "--endpoint", "unix://"+sock, "--mode", "node", "--daemon", "none",
		"--node-id", "n1", "--state-dir", filepath.Join(base, "state"))
	waitFor(t, func() bool { _, err := os.Stat(sock); return err == nil })
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("the CSI socket is %v, uid %d; want 0600, root's", fi.Mode(), fi.Sys().(*syscall.Stat_t).Uid)
	}

	// Another user: the cairn CLI dialing the socket is refused at connect.
	other := cairnCommand(t, "--socket", sock, "status")
	other.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := other.CombinedOutput(); err == nil || !strings.Contains(string(out), "permission denied") {
		t.Errorf("uid 65534 dialing the CSI socket: %v\n%s", err, out)
	}

	// Its owner is served.
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := csipb.NewIdentityClient(conn).GetPluginInfo(ctx, &csipb.GetPluginInfoRequest{}); err != nil {
		t.Errorf("root calling the CSI socket: %v", err)
	}
}

// otherUserDir prepares an end-to-end test that runs cairn as another
// user: it skips unless it runs as root with a built binary (the test
// binary's directory is not for others), makes that binary's directory
// enterable, and returns a new directory every user may enter, removed
// when the test ends.
func otherUserDir(t *testing.T, prefix string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: starts cairn processes")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run commands as another user")
	}
	base, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	bin := cairnCommand(t).Path
	if builtBin == "" {
		t.Skip("no built binary that another user may run (go build failed)")
	}
	for _, dir := range []string{base, filepath.Dir(bin)} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return base
}
