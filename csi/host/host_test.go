package host_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/cairn-storage/cairn/csi/host"
)

var quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// freePort returns a TCP port free on the loopback.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestControllerOverTCP runs the topology of the Kubernetes manifests: a
// host serving the controller on TCP with a token, and a controller-only
// plugin forwarding to it. A wrong token is refused.
func TestControllerOverTCP(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- host.Run(ctx, host.Config{DataDir: filepath.Join(dir, "data"), Socket: filepath.Join(dir, "host.sock"),
			Listen: "tcp://" + addr, Token: "s3cret", NodeID: "server-0", Logger: quiet})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	start := func(token string) (csipb.ControllerClient, func()) {
		ep := "unix://" + filepath.Join(dir, "csi-"+token+".sock")
		p, err := host.StartPlugin(context.Background(), host.PluginConfig{Endpoint: ep, NodeID: "n", Controller: true,
			StateDir: filepath.Join(dir, "state"), Logger: quiet, Host: host.ClientConfig{Endpoint: "tcp://" + addr, Token: token}})
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpc.NewClient(ep, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		return csipb.NewControllerClient(conn), func() { conn.Close(); p.Stop() }
	}
	good, stop := start("s3cret")
	defer stop()
	req := &csipb.CreateVolumeRequest{Name: "pvc-tcp", CapacityRange: &csipb.CapacityRange{RequiredBytes: 1 << 20},
		VolumeCapabilities: []*csipb.VolumeCapability{{
			AccessType: &csipb.VolumeCapability_Mount{Mount: &csipb.VolumeCapability_MountVolume{}},
			AccessMode: &csipb.VolumeCapability_AccessMode{Mode: csipb.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER}}}}
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err = good.CreateVolume(context.Background(), req); status.Code(err) != codes.Unavailable {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	bad, stopBad := start("wrong")
	defer stopBad()
	_, err = bad.DeleteVolume(context.Background(), &csipb.DeleteVolumeRequest{VolumeId: "pvc-tcp"})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("delete with a wrong token: %v, want Unauthenticated", err)
	}
	list, err := good.ListVolumes(context.Background(), &csipb.ListVolumesRequest{})
	if err != nil || len(list.GetEntries()) != 1 {
		t.Fatalf("volumes after a refused delete: %v %v", list, err)
	}
}
