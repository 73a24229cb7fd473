package csi_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"

	"github.com/cairn-storage/cairn/csi"
)

// TestNFSMount checks the mount(8) command the node runs for volumes of
// mounter nfs (this machine has no NFS client: the command is recorded,
// not run), and that such publications unpublish cleanly.
func TestNFSMount(t *testing.T) {
	dir := t.TempDir()
	mountinfo := filepath.Join(dir, "mountinfo")
	if err := os.WriteFile(mountinfo, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var ran [][]string
	n, err := csi.NewNode(csi.NodeOptions{NodeID: "n1", StateDir: filepath.Join(dir, "state"), MountInfo: mountinfo, Logger: quiet,
		MountNFS: func(_ context.Context, m csi.NFSMount) error {
			ran = append(ran, m.Argv())
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		vctx   map[string]string
		flags  []string
		ro     bool
		mode   csipb.VolumeCapability_AccessMode_Mode
		source string
		opts   string
	}{
		{"defaults", map[string]string{"mounter": "nfs", "server": "cairn-0.cairn.cairn-system.svc"}, nil, false,
			csipb.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER, "cairn-0.cairn.cairn-system.svc:/pvc-1", "vers=3,nolock"},
		{"share, subDir and options", map[string]string{"mounter": "nfs", "server": "10.1.2.3", "share": "/exports", "subDir": "team/app",
			"mountOptions": "port=2049,mountport=2049,nolock"}, []string{"hard", "timeo=600"}, false,
			csipb.VolumeCapability_AccessMode_SINGLE_NODE_WRITER, "10.1.2.3:/exports/pvc-1/team/app", "vers=3,port=2049,mountport=2049,nolock,hard,timeo=600"},
		{"read-only and IPv6", map[string]string{"mounter": "nfs", "server": "fd00::7", "mountOptions": "nfsvers=3"}, nil, true,
			csipb.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER, "[fd00::7]:/pvc-1", "nfsvers=3,nolock,ro"},
		{"read-only access mode", map[string]string{"mounter": "nfs", "server": "gw"}, nil, false,
			csipb.VolumeCapability_AccessMode_MULTI_NODE_READER_ONLY, "gw:/pvc-1", "vers=3,nolock,ro"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ran = nil
			target := filepath.Join(dir, "target")
			vc := mountCap(tc.mode)
			vc.GetMount().MountFlags = tc.flags
			req := &csipb.NodePublishVolumeRequest{VolumeId: "pvc-1", TargetPath: target, VolumeCapability: vc,
				VolumeContext: tc.vctx, Readonly: tc.ro}
			if _, err := n.NodePublishVolume(ctx, req); err != nil {
				t.Fatal(err)
			}
			want := []string{"mount", "-t", "nfs", "-o", tc.opts, tc.source, target}
			if len(ran) != 1 || !slices.Equal(ran[0], want) {
				t.Fatalf("ran %q, want %q", ran, want)
			}
			if _, err := n.NodeUnpublishVolume(ctx, &csipb.NodeUnpublishVolumeRequest{VolumeId: "pvc-1", TargetPath: target}); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(target); !os.IsNotExist(err) {
				t.Errorf("target after unpublish: %v", err)
			}
		})
	}

	// Bad volume contexts, and FUSE without a daemon on this node.
	for _, tc := range []struct {
		vctx map[string]string
		code codes.Code
		msg  string
	}{
		{map[string]string{"mounter": "nfs", "server": "gw", "shares": "/x"}, codes.InvalidArgument, `unknown volume context "shares"`},
		{map[string]string{"mounter": "nfs", "server": "gw", "subDir": "../escape"}, codes.InvalidArgument, "subDir"},
		{map[string]string{"mounter": "nfs", "server": "gw; rm -rf /"}, codes.InvalidArgument, "server"},
		{map[string]string{"mounter": "nfs", "server": "gw", "mountOptions": "vers=4"}, codes.InvalidArgument, "NFSv3"},
		{map[string]string{"mounter": "smb"}, codes.InvalidArgument, "mounter"},
		{map[string]string{"mounter": "fuse", "csi.storage.k8s.io/pod.name": "web-0"}, codes.FailedPrecondition, "no cairn daemon"},
	} {
		ran = nil
		_, err := n.NodePublishVolume(ctx, &csipb.NodePublishVolumeRequest{VolumeId: "pvc-1", TargetPath: filepath.Join(dir, "bad"),
			VolumeCapability: rwx, VolumeContext: tc.vctx})
		wantCode(t, err, tc.code)
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("error %q does not mention %q", err, tc.msg)
		}
		if len(ran) > 0 {
			t.Errorf("ran %q for a refused publish", ran)
		}
	}
}

// TestNFSMountWithoutMountBinary publishes an NFS volume on a node whose
// PATH has no mount(8), as in the plugin's FROM-scratch image: the node
// calls mount(2) itself. This machine's kernel has no NFS client, so the
// mount must fail, saying so, and leave no publication behind.
func TestNFSMountWithoutMountBinary(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mount(2) needs root")
	}
	if b, err := os.ReadFile("/proc/filesystems"); err != nil || strings.Contains(string(b), "\tnfs\n") {
		t.Skipf("this kernel has an NFS client (%v): the test expects the mount to be refused", err)
	}
	t.Setenv("PATH", t.TempDir())
	dir := t.TempDir()
	n, err := csi.NewNode(csi.NodeOptions{NodeID: "n1", StateDir: filepath.Join(dir, "state"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "target")
	_, err = n.NodePublishVolume(context.Background(), &csipb.NodePublishVolumeRequest{VolumeId: "pvc-1", TargetPath: target,
		VolumeCapability: mountCap(csipb.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER),
		VolumeContext:    map[string]string{"mounter": "nfs", "server": "127.0.0.1"}})
	wantCode(t, err, codes.Internal)
	for _, want := range []string{"mount(2) 127.0.0.1:/pvc-1", "addr=127.0.0.1", "no NFS client"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Errorf("target after a failed publish: %v", err)
	}
}
