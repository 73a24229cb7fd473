package csi_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/csi/apibackend"
	"github.com/cairn-storage/cairn/csi/plugin"
)

// serveTCP serves td's control API on a loopback port, requiring token,
// as `cairn server --api-listen --api-token-file` does; it returns the
// endpoint.
func serveTCP(t *testing.T, td *testDaemon, token string) string {
	t.Helper()
	opts, err := control.TCPServerOptions(control.TCPAuth{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(opts...)
	td.srv.Register(g)
	go g.Serve(l)
	t.Cleanup(g.Stop)
	return "tcp://" + l.Addr().String()
}

// TestControllerOverTCP runs the topology of the Kubernetes manifests: a
// daemon serving its control API on TCP with a token, and a
// controller-only plugin in another pod calling it. A wrong token is
// refused and changes nothing.
func TestControllerOverTCP(t *testing.T) {
	dir, err := os.MkdirTemp("", "cairn-csi-tcp-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	td, err := startDaemon(filepath.Join(dir, "data"), filepath.Join(dir, "d.sock"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := td.stop(); err != nil {
			t.Error(err)
		}
	}()
	ep := serveTCP(t, td, "s3cret")
	start := func(token string) csipb.ControllerClient {
		sock := "unix://" + filepath.Join(dir, "csi-"+token+".sock")
		p, err := plugin.Start(context.Background(), plugin.Config{Endpoint: sock, NodeID: "n", Controller: true,
			StateDir: filepath.Join(dir, "state"), Logger: quiet, Daemon: apibackend.Config{Endpoint: ep, Token: token}})
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpc.NewClient(sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(); p.Stop() })
		return csipb.NewControllerClient(conn)
	}
	good, bad := start("s3cret"), start("wrong")
	ctx := context.Background()
	if _, err := good.CreateVolume(ctx, volumeReq("pvc-tcp", 1<<20, nil)); err != nil {
		t.Fatal(err)
	}
	_, err = bad.DeleteVolume(ctx, &csipb.DeleteVolumeRequest{VolumeId: "pvc-tcp"})
	wantCode(t, err, codes.Unauthenticated)
	list, err := good.ListVolumes(ctx, &csipb.ListVolumesRequest{})
	if err != nil || len(list.GetEntries()) != 1 {
		t.Fatalf("volumes after a refused delete: %v %v", list, err)
	}
}
