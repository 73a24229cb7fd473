package csi_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/csi/apibackend"
	"github.com/cairn-storage/cairn/csi/plugin"
)

// needFUSE skips tests that mount, unless root with /dev/fuse.
func needFUSE(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("FUSE mounts need root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse")
	}
}

// env is a plugin serving every service, with a daemon it started.
type env struct {
	t        testing.TB
	dir      string // everything lives under it
	data     string
	state    string
	endpoint string
	zone     string

	plugin *plugin.Plugin
	conn   *grpc.ClientConn
	ctrl   csipb.ControllerClient
	group  csipb.GroupControllerClient
	node   csipb.NodeClient
	id     csipb.IdentityClient
}

// quiet is the logger of tests: warnings and errors only.
var quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

func newEnv(t testing.TB) *env {
	t.Helper()
	needFUSE(t)
	dir, err := os.MkdirTemp("", "cairn-csi-")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, data: filepath.Join(dir, "data"), state: filepath.Join(dir, "state"),
		endpoint: "unix://" + filepath.Join(dir, "csi.sock"), zone: "zone-a"}
	t.Cleanup(e.cleanup)
	e.startPlugin()
	return e
}

// startPlugin starts the plugin (the daemon is started on first need).
func (e *env) startPlugin() {
	e.t.Helper()
	p, err := plugin.Start(context.Background(), plugin.Config{
		Endpoint: e.endpoint, NodeID: "test-node", Zone: e.zone, Controller: true, Node: true,
		StateDir: e.state, RepairInterval: time.Hour, Logger: quiet,
		Daemon: apibackend.Config{Endpoint: "unix://" + e.socket(), Spawn: &apibackend.SpawnConfig{
			Command: []string{os.Args[0], "--"}, Env: []string{daemonHelperEnv + "=1"},
			DataDir: e.data, StateDir: e.state}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.plugin = p
	conn, err := grpc.NewClient(e.endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		e.t.Fatal(err)
	}
	e.conn = conn
	e.ctrl, e.group = csipb.NewControllerClient(conn), csipb.NewGroupControllerClient(conn)
	e.node, e.id = csipb.NewNodeClient(conn), csipb.NewIdentityClient(conn)
}

// socket is the control socket of the daemon of e's data directory.
func (e *env) socket() string { return control.SocketPath(e.data) }

// stopPlugin stops the plugin; the daemon and its mounts stay.
func (e *env) stopPlugin() {
	e.t.Helper()
	if e.plugin == nil {
		return
	}
	e.conn.Close()
	if err := e.plugin.Stop(); err != nil {
		e.t.Error(err)
	}
	e.plugin = nil
}

// daemonPID returns the process ID of the running daemon, failing if none.
func (e *env) daemonPID() int {
	e.t.Helper()
	pid, ok := apibackend.StartedPID(e.state, e.socket())
	if !ok {
		e.t.Fatal("no daemon is running")
	}
	return pid
}

// killDaemon kills the daemon with sig and waits for it to be gone.
func (e *env) killDaemon(sig syscall.Signal) {
	e.t.Helper()
	pid, ok := apibackend.StartedPID(e.state, e.socket())
	if !ok {
		return
	}
	if err := syscall.Kill(pid, sig); err != nil {
		e.t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, ok := apibackend.StartedPID(e.state, e.socket()); !ok {
			return
		}
	}
	e.t.Fatalf("daemon %d still running after %v", pid, sig)
}

// cleanup stops everything and removes the directory, detaching any
// mount left under it first (so nothing is removed through a mount).
func (e *env) cleanup() {
	e.stopPlugin()
	e.killDaemon(syscall.SIGTERM)
	log, _ := os.ReadFile(apibackend.LogFile(e.state))
	if strings.Contains(string(log), "DATA RACE") {
		e.t.Error("the race detector found a race in a daemon")
	}
	if e.t.Failed() {
		e.t.Logf("daemon log:\n%s", log)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(mounts), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], e.dir+"/") {
			detach(f[4])
		}
	}
	os.RemoveAll(e.dir)
}

// mountCap is a mount capability with the given access mode.
func mountCap(mode csipb.VolumeCapability_AccessMode_Mode) *csipb.VolumeCapability {
	return &csipb.VolumeCapability{
		AccessType: &csipb.VolumeCapability_Mount{Mount: &csipb.VolumeCapability_MountVolume{}},
		AccessMode: &csipb.VolumeCapability_AccessMode{Mode: mode},
	}
}

var rwx = mountCap(csipb.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER)

// createVolume creates a volume of size bytes, failing the test on error.
func (e *env) createVolume(name string, size int64, params map[string]string) *csipb.Volume {
	e.t.Helper()
	resp, err := e.ctrl.CreateVolume(context.Background(), &csipb.CreateVolumeRequest{
		Name: name, CapacityRange: &csipb.CapacityRange{RequiredBytes: size},
		VolumeCapabilities: []*csipb.VolumeCapability{rwx}, Parameters: params})
	if err != nil {
		e.t.Fatalf("CreateVolume %s: %v", name, err)
	}
	return resp.GetVolume()
}

// publish publishes volume id at target, failing the test on error.
func (e *env) publish(id, target string, readOnly bool) {
	e.t.Helper()
	_, err := e.node.NodePublishVolume(context.Background(), &csipb.NodePublishVolumeRequest{
		VolumeId: id, TargetPath: target, VolumeCapability: rwx, Readonly: readOnly,
		VolumeContext: map[string]string{"mounter": "fuse"}})
	if err != nil {
		e.t.Fatalf("NodePublishVolume %s at %s: %v", id, target, err)
	}
}

// unpublish unpublishes volume id from target, failing the test on error.
func (e *env) unpublish(id, target string) {
	e.t.Helper()
	if _, err := e.node.NodeUnpublishVolume(context.Background(), &csipb.NodeUnpublishVolumeRequest{VolumeId: id, TargetPath: target}); err != nil {
		e.t.Fatalf("NodeUnpublishVolume %s at %s: %v", id, target, err)
	}
}
