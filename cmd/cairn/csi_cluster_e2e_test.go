//go:build linux

// The CSI node publishes with Linux mounts.

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/csi/apibackend"
)

// TestCSIOnCluster runs `cairn csi --cluster ADDR`: the node daemon the
// plugin starts (`cairn --cluster ADDR server`) joins the cluster as a
// client, so a PVC's volume lives in the cluster's namespace, and what a
// pod writes through the published FUSE mount is read by another client
// of the cluster.
func TestCSIOnCluster(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for FUSE mounts")
	}
	tc := startTestCluster(t, 3)
	// The metadata is served over mutual TLS only: a plain client fails.
	plain := cairnCommand(t, "--data", filepath.Join(tc.dir, "plain"), "--meta", "etcd://"+tc.etcd, "volume", "list")
	done := make(chan error, 1)
	if err := plain.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- plain.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a client without TLS listed the cluster's volumes")
		}
	case <-time.After(20 * time.Second):
		plain.Process.Kill()
		<-done
	}
	state := filepath.Join(tc.dir, "csi-state")
	sock := filepath.Join(tc.dir, "csi.sock")
	dataDir := filepath.Join(tc.dir, "csi-data")
	startCairn(t, "csi.log", "--data", dataDir, "csi", "--endpoint", "unix://"+sock,
		"--node-id", "k8s-node-1", "--state-dir", state, "--cluster", tc.gossip[1], "--tls-dir", tc.client)
	t.Cleanup(func() { // the daemon outlives the plugin by design
		if t.Failed() {
			b, _ := os.ReadFile(apibackend.LogFile(state))
			t.Logf("daemon.log:\n%s", b)
		}
		if pid, ok := apibackend.StartedPID(state, control.SocketPath(dataDir)); ok {
			syscall.Kill(pid, syscall.SIGTERM)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for _, err := os.Stat(sock); err != nil; _, err = os.Stat(sock) {
		if time.Now().After(deadline) {
			t.Fatal("the plugin's socket did not appear")
		}
		time.Sleep(100 * time.Millisecond)
	}
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rwx := &csipb.VolumeCapability{
		AccessType: &csipb.VolumeCapability_Mount{Mount: &csipb.VolumeCapability_MountVolume{}},
		AccessMode: &csipb.VolumeCapability_AccessMode{Mode: csipb.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER},
	}
	vol, err := csipb.NewControllerClient(conn).CreateVolume(ctx, &csipb.CreateVolumeRequest{
		Name: "pvc-on-cluster", VolumeCapabilities: []*csipb.VolumeCapability{rwx},
		CapacityRange: &csipb.CapacityRange{RequiredBytes: 1 << 30}})
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(tc.dir, "pod-volume")
	node := csipb.NewNodeClient(conn)
	if _, err := node.NodePublishVolume(ctx, &csipb.NodePublishVolumeRequest{
		VolumeId: vol.Volume.VolumeId, TargetPath: target, VolumeCapability: rwx}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := node.NodeUnpublishVolume(ctx, &csipb.NodeUnpublishVolumeRequest{VolumeId: vol.Volume.VolumeId, TargetPath: target}); err != nil {
			t.Error(err)
			unix.Unmount(target, unix.MNT_DETACH)
		}
	}()
	data := bytes.Repeat([]byte("written by a pod through the CSI publish\n"), 50000)
	if err := os.WriteFile(filepath.Join(target, "data"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Open(filepath.Join(target, "data")); err == nil {
		f.Sync()
		f.Close()
	}
	if out := tc.cli(t, "volume", "info", vol.Volume.VolumeId); !bytes.Contains(out, []byte("1.0 GiB")) && !bytes.Contains(out, []byte("1073741824")) {
		t.Errorf("volume info from another client shows no 1 GiB quota:\n%s", out)
	}
	mnt := filepath.Join(tc.dir, "other-client")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	startCairn(t, "mount.log", "mount", vol.Volume.VolumeId, mnt, "--read-only", "--cluster", tc.gossip[2], "--tls-dir", tc.client)
	waitMounted(t, mnt)
	got, err := os.ReadFile(filepath.Join(mnt, "data"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("another client read %d bytes (%v), want the %d the pod wrote", len(got), err, len(data))
	}
	// Health: three nodes for R=3 is healthy; with one killed, new data
	// is under-replicated and the volume says so.
	ctrl := csipb.NewControllerClient(conn)
	health := func() []*csipb.VolumeHealth_VolumeHealthEntry {
		h, err := ctrl.ControllerGetVolumeHealth(ctx, &csipb.ControllerGetVolumeHealthRequest{VolumeId: vol.Volume.VolumeId})
		if err != nil {
			t.Fatal(err)
		}
		return h.VolumeHealth.HealthStatuses
	}
	if h := health(); len(h) != 0 {
		t.Fatalf("healthy cluster reports %v", h)
	}
	tc.nodes[2].Process.Signal(syscall.SIGKILL)
	deadline = time.Now().Add(30 * time.Second)
	for {
		h := health()
		if len(h) == 1 && h[0].Status == csipb.VolumeHealthErrorType_DEGRADED {
			t.Logf("after a node loss: %s: %s", h[0].Reason, h[0].Message)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a node loss the volume reports %v, want DEGRADED", h)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
