package csi_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestPublishRWX publishes one volume at two targets: what is written
// through one is read through the other, both ways; a read-only
// publication refuses writes.
func TestPublishRWX(t *testing.T) {
	e := newEnv(t)
	v := e.createVolume("pvc-rwx", 64<<20, nil)
	a, b, ro := filepath.Join(e.dir, "pod-a"), filepath.Join(e.dir, "pod-b"), filepath.Join(e.dir, "pod-ro")
	e.publish(v.VolumeId, a, false)
	e.publish(v.VolumeId, b, false)
	e.publish(v.VolumeId, a, false) // idempotent
	e.publish(v.VolumeId, ro, true)

	write(t, filepath.Join(a, "hello.txt"), "written in a")
	expect(t, filepath.Join(b, "hello.txt"), "written in a")
	if err := os.Mkdir(filepath.Join(b, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(b, "dir", "back.txt"), "written in b")
	expect(t, filepath.Join(a, "dir", "back.txt"), "written in b")
	expect(t, filepath.Join(ro, "dir", "back.txt"), "written in b")
	if err := os.WriteFile(filepath.Join(ro, "nope"), []byte("x"), 0o644); !errors.Is(err, syscall.EROFS) {
		t.Errorf("write to a read-only publication: %v, want EROFS", err)
	}

	// Publishing another volume, or read-only, at a used target is refused.
	w := e.createVolume("pvc-other", 64<<20, nil)
	_, err := e.node.NodePublishVolume(context.Background(), &csipb.NodePublishVolumeRequest{
		VolumeId: w.VolumeId, TargetPath: a, VolumeCapability: rwx})
	wantCode(t, err, codes.AlreadyExists)

	// Stats come from the mount: the quota and what is used.
	st, err := e.node.NodeGetVolumeStats(context.Background(), &csipb.NodeGetVolumeStatsRequest{VolumeId: v.VolumeId, VolumePath: a})
	if err != nil {
		t.Fatal(err)
	}
	if bytes := st.GetUsage()[0]; bytes.GetTotal() != 64<<20 || bytes.GetUsed() == 0 {
		t.Errorf("bytes usage %v: want total 64 MiB and some used", bytes)
	}

	for _, target := range []string{a, b, ro} {
		e.unpublish(v.VolumeId, target)
		e.unpublish(v.VolumeId, target) // idempotent
		if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("target %s after unpublish: %v", target, err)
		}
	}
	if _, err := e.ctrl.DeleteVolume(context.Background(), &csipb.DeleteVolumeRequest{VolumeId: v.VolumeId}); err != nil {
		t.Fatal(err)
	}
}

// TestUnpublishKilledDaemon kills the daemon serving the FUSE mount: the
// mount is dead (ENOTCONN), unpublishing it still succeeds, and the next
// publish starts a new daemon.
func TestUnpublishKilledDaemon(t *testing.T) {
	e := newEnv(t)
	v := e.createVolume("pvc-killed", 64<<20, nil)
	target := filepath.Join(e.dir, "pod")
	e.publish(v.VolumeId, target, false)
	write(t, filepath.Join(target, "f"), "before the kill")
	old := e.daemonPID()
	e.killDaemon(syscall.SIGKILL)
	if _, err := os.Stat(filepath.Join(target, "f")); !deadErr(err) {
		t.Fatalf("stat in a mount whose server was killed: %v, want ENOTCONN, ECONNABORTED or EIO", err)
	}
	health, err := e.node.NodeGetVolumeHealth(context.Background(), &csipb.NodeGetVolumeHealthRequest{VolumeId: v.VolumeId})
	if err != nil {
		t.Fatal(err)
	}
	if hs := health.GetVolumeHealth().GetHealthStatuses(); len(hs) != 1 || hs[0].GetReason() != "MountDead" {
		t.Errorf("node volume health of a dead mount: %v", hs)
	}
	e.unpublish(v.VolumeId, target)
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("target after unpublish: %v", err)
	}
	e.publish(v.VolumeId, target, false)
	expect(t, filepath.Join(target, "f"), "before the kill")
	if pid := e.daemonPID(); pid == old {
		t.Errorf("daemon pid %d: want a new daemon", pid)
	}
	e.unpublish(v.VolumeId, target)
}

// TestPluginRestart stops the plugin: the mount keeps serving; a new
// plugin keeps the live mount. Then the daemon dies while no plugin runs:
// the next plugin re-attaches the publication with a new daemon.
func TestPluginRestart(t *testing.T) {
	e := newEnv(t)
	v := e.createVolume("pvc-restart", 64<<20, nil)
	target := filepath.Join(e.dir, "pod")
	e.publish(v.VolumeId, target, false)
	write(t, filepath.Join(target, "a"), "one")
	pid := e.daemonPID()

	e.stopPlugin()
	write(t, filepath.Join(target, "b"), "written while the plugin is down")
	expect(t, filepath.Join(target, "a"), "one")
	e.startPlugin()
	if got := e.daemonPID(); got != pid {
		t.Errorf("daemon pid %d after a plugin restart, want %d", got, pid)
	}
	expect(t, filepath.Join(target, "b"), "written while the plugin is down")

	e.stopPlugin()
	e.killDaemon(syscall.SIGKILL)
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); !deadErr(err) {
		t.Fatalf("stat of a dead mount: %v", err)
	}
	e.startPlugin() // re-attaches
	expect(t, filepath.Join(target, "a"), "one")
	expect(t, filepath.Join(target, "b"), "written while the plugin is down")
	e.unpublish(v.VolumeId, target)
}

// TestProbe reports a healthy plugin, restarting a dead daemon.
func TestProbe(t *testing.T) {
	e := newEnv(t)
	if _, err := e.id.Probe(context.Background(), &csipb.ProbeRequest{}); err != nil {
		t.Fatal(err)
	}
	e.killDaemon(syscall.SIGKILL)
	resp, err := e.id.Probe(context.Background(), &csipb.ProbeRequest{})
	if err != nil || !resp.GetReady().GetValue() {
		t.Fatalf("probe after the daemon died: %v %v", resp, err)
	}
	info, err := e.node.NodeGetInfo(context.Background(), &csipb.NodeGetInfoRequest{})
	if err != nil || info.GetAccessibleTopology().GetSegments()["topology.csi.cairn-storage.io/zone"] != e.zone {
		t.Fatalf("node info %v: %v", info, err)
	}
}

// deadErr reports whether err is what a FUSE mount answers once its
// server is gone: ENOTCONN, or ECONNABORTED or EIO for requests caught
// in flight.
func deadErr(err error) bool {
	return errors.Is(err, syscall.ENOTCONN) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EIO)
}

func write(t testing.TB, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func expect(t testing.TB, name, content string) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != content {
		t.Fatalf("%s holds %q, want %q", name, b, content)
	}
}

func wantCode(t testing.TB, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("got %v, want code %v", err, code)
	}
}
