package csi_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cairn-storage/cairn/csi/host"
)

// hostHelperEnv makes the test binary run as a cairn host (what `cairn
// csi host` runs), so that tests spawn real host processes without
// building the command.
const hostHelperEnv = "CAIRN_CSI_TEST_HOST"

func TestMain(m *testing.M) {
	if os.Getenv(hostHelperEnv) == "1" {
		os.Exit(runHostHelper())
	}
	os.Exit(m.Run())
}

// runHostHelper runs a host from the arguments after "--".
func runHostHelper() int {
	i := slices.Index(os.Args, "--")
	if i < 0 {
		fmt.Fprintln(os.Stderr, "host helper: no -- in arguments")
		return 2
	}
	fset := flag.NewFlagSet("host", flag.ContinueOnError)
	data := fset.String("data", "", "")
	socket := fset.String("socket", "", "")
	if err := fset.Parse(os.Args[i+1:]); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := host.Run(ctx, host.Config{DataDir: *data, Socket: *socket, NodeID: "test-node", Logger: log}); err != nil {
		log.Error("host helper", "err", err)
		return 1
	}
	return 0
}

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

// env is a plugin serving every service, with a host it spawned.
type env struct {
	t        testing.TB
	dir      string // everything lives under it
	data     string
	state    string
	endpoint string
	zone     string

	plugin *host.Plugin
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

// startPlugin starts the plugin (the host is started on first need).
func (e *env) startPlugin() {
	e.t.Helper()
	p, err := host.StartPlugin(context.Background(), host.PluginConfig{
		Endpoint: e.endpoint, NodeID: "test-node", Zone: e.zone, Controller: true, Node: true,
		StateDir: e.state, RepairInterval: time.Hour, Logger: quiet,
		Host: host.ClientConfig{Endpoint: "unix://" + filepath.Join(e.state, "host.sock"), Spawn: &host.SpawnConfig{
			Command: []string{os.Args[0], "--"}, Env: []string{hostHelperEnv + "=1"},
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

// stopPlugin stops the plugin; the host and its mounts stay.
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

// hostPID returns the process ID of the running host, failing if none.
func (e *env) hostPID() int {
	e.t.Helper()
	pid, ok := host.StartedPID(e.state, filepath.Join(e.state, "host.sock"))
	if !ok {
		e.t.Fatal("no host is running")
	}
	return pid
}

// killHost kills the host with sig and waits for it to be gone.
func (e *env) killHost(sig syscall.Signal) {
	e.t.Helper()
	pid, ok := host.StartedPID(e.state, filepath.Join(e.state, "host.sock"))
	if !ok {
		return
	}
	if err := syscall.Kill(pid, sig); err != nil {
		e.t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, ok := host.StartedPID(e.state, filepath.Join(e.state, "host.sock")); !ok {
			return
		}
	}
	e.t.Fatalf("host %d still running after %v", pid, sig)
}

// cleanup stops everything and removes the directory, detaching any
// mount left under it first (so nothing is removed through a mount).
func (e *env) cleanup() {
	e.stopPlugin()
	e.killHost(syscall.SIGTERM)
	log, _ := os.ReadFile(host.LogFile(e.state))
	if strings.Contains(string(log), "DATA RACE") {
		e.t.Error("the race detector found a race in a host")
	}
	if e.t.Failed() {
		e.t.Logf("host log:\n%s", log)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(mounts), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], e.dir+"/") {
			unix.Unmount(f[4], unix.MNT_DETACH)
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
