package csi_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairn-storage/cairn/csi"
	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fs"
)

// newController returns a controller over a daemon on a fresh data
// directory, served in this process (no FUSE), and its backend.
func newController(t testing.TB) (*csi.Controller, csi.Backend) {
	c, b, _ := newControllerData(t)
	return c, b
}

// newControllerData is newController, also returning the daemon's data
// directory, to reach under the API.
func newControllerData(t testing.TB) (*csi.Controller, csi.Backend, *datadir.Data) {
	t.Helper()
	b, d := newTestBackend(t)
	return csi.NewController(b, quiet), b, d
}

// writeFile stores n bytes in a new file of volume vol, through package fs.
func writeFile(t testing.TB, d *datadir.Data, vol, name string, n int) {
	t.Helper()
	ctx := context.Background()
	v, err := d.FS.OpenVolume(ctx, vol)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close(ctx)
	a, err := v.Mknod(ctx, nil, fs.RootIno, name, syscall.S_IFREG|0o644, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, err := v.OpenCreated(ctx, nil, a.Ino, os.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Write(ctx, make([]byte, n), 0); err != nil {
		t.Fatal(err)
	}
	if err := h.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// contents lists the volumes and snapshots of b, to check a failed call
// created nothing.
func contents(t testing.TB, b csi.Backend) []string {
	t.Helper()
	ctx := context.Background()
	vols, err := b.ListVolumes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snaps, err := b.ListSnapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vols {
		out = append(out, fmt.Sprintf("volume %s quota %d", v.Name, v.Spec.Quota))
	}
	for _, s := range snaps {
		out = append(out, "snapshot "+s.ID)
	}
	return out
}

func volumeReq(name string, size int64, params map[string]string) *csipb.CreateVolumeRequest {
	return &csipb.CreateVolumeRequest{Name: name, CapacityRange: &csipb.CapacityRange{RequiredBytes: size},
		VolumeCapabilities: []*csipb.VolumeCapability{rwx}, Parameters: params}
}

// TestBadInput sends requests cairn must refuse: each fails with the
// right code and a message naming the problem, and creates nothing.
func TestBadInput(t *testing.T) {
	c, b, d := newControllerData(t)
	ctx := context.Background()
	if _, err := c.CreateVolume(ctx, volumeReq("pvc-src", 1<<20, nil)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, d, "pvc-src", "data", 4096)
	if _, err := c.CreateSnapshot(ctx, &csipb.CreateSnapshotRequest{Name: "snap-src", SourceVolumeId: "pvc-src"}); err != nil {
		t.Fatal(err)
	}
	block := volumeReq("pvc-block", 1<<20, nil)
	block.VolumeCapabilities = []*csipb.VolumeCapability{{AccessType: &csipb.VolumeCapability_Block{Block: &csipb.VolumeCapability_BlockVolume{}},
		AccessMode: rwx.AccessMode}}
	fromOther := volumeReq("pvc-from-other", 1<<20, nil)
	fromOther.VolumeContentSource = &csipb.VolumeContentSource{Type: &csipb.VolumeContentSource_Snapshot{
		Snapshot: &csipb.VolumeContentSource_SnapshotSource{SnapshotId: "snapshot-0f1e2d3c-of-another-driver"}}}
	tooSmall := volumeReq("pvc-too-small", 1, nil)
	tooSmall.VolumeContentSource = &csipb.VolumeContentSource{Type: &csipb.VolumeContentSource_Volume{
		Volume: &csipb.VolumeContentSource_VolumeSource{VolumeId: "pvc-src"}}}
	if _, err := b.UpdateVolume(ctx, "pvc-src", func(*csi.VolumeSpec) error { return nil }); err != nil {
		t.Fatal(err)
	}
	before := contents(t, b)

	for _, tc := range []struct {
		name string
		call func() error
		code codes.Code
		msg  string // part of the message
	}{
		{"unknown parameter", func() error {
			_, err := c.CreateVolume(ctx, volumeReq("pvc-a", 1<<20, map[string]string{"replica": "3"}))
			return err
		}, codes.InvalidArgument, `unknown parameter "replica"`},
		{"bad compress", func() error {
			_, err := c.CreateVolume(ctx, volumeReq("pvc-a", 1<<20, map[string]string{"compress": "maybe"}))
			return err
		}, codes.InvalidArgument, "compress"},
		{"nfs without server", func() error {
			_, err := c.CreateVolume(ctx, volumeReq("pvc-a", 1<<20, map[string]string{"mounter": "nfs"}))
			return err
		}, codes.InvalidArgument, "server"},
		{"NFSv4", func() error {
			_, err := c.CreateVolume(ctx, volumeReq("pvc-a", 1<<20, map[string]string{"mounter": "nfs", "server": "gw", "mountOptions": "vers=4.1"}))
			return err
		}, codes.InvalidArgument, "NFSv3"},
		{"server with fuse", func() error {
			_, err := c.CreateVolume(ctx, volumeReq("pvc-a", 1<<20, map[string]string{"server": "gw"}))
			return err
		}, codes.InvalidArgument, "mounter=nfs"},
		{"capacity past free space", func() error {
			_, err := c.CreateVolume(ctx, volumeReq("pvc-huge", 1<<62, nil))
			return err
		}, codes.OutOfRange, "free in the store"},
		{"limit below required", func() error {
			r := volumeReq("pvc-a", 2<<20, nil)
			r.CapacityRange.LimitBytes = 1 << 20
			_, err := c.CreateVolume(ctx, r)
			return err
		}, codes.InvalidArgument, "limit_bytes"},
		{"block access", func() error { _, err := c.CreateVolume(ctx, block); return err }, codes.InvalidArgument, "block"},
		{"snapshot of another driver", func() error { _, err := c.CreateVolume(ctx, fromOther); return err }, codes.NotFound, "snapshot"},
		{"clone smaller than its source", func() error { _, err := c.CreateVolume(ctx, tooSmall); return err }, codes.OutOfRange, ""},
		{"snapshot of another driver's volume", func() error {
			_, err := c.CreateSnapshot(ctx, &csipb.CreateSnapshotRequest{Name: "snap-a", SourceVolumeId: "nfs.csi.k8s.io#10.0.0.1#/exports#pvc-1"})
			return err
		}, codes.NotFound, "not a volume of this driver"},
		{"snapshot of a missing volume", func() error {
			_, err := c.CreateSnapshot(ctx, &csipb.CreateSnapshotRequest{Name: "snap-a", SourceVolumeId: "pvc-missing"})
			return err
		}, codes.NotFound, "pvc-missing"},
		{"unknown snapshot parameter", func() error {
			_, err := c.CreateSnapshot(ctx, &csipb.CreateSnapshotRequest{Name: "snap-a", SourceVolumeId: "pvc-src", Parameters: map[string]string{"hook": "x"}})
			return err
		}, codes.InvalidArgument, `"hook"`},
		{"snapshot name taken for another volume", func() error {
			if _, err := c.CreateVolume(ctx, volumeReq("pvc-b", 1<<20, nil)); err != nil {
				return err
			}
			defer c.DeleteVolume(ctx, &csipb.DeleteVolumeRequest{VolumeId: "pvc-b"})
			_, err := c.CreateSnapshot(ctx, &csipb.CreateSnapshotRequest{Name: "snap-src", SourceVolumeId: "pvc-b"})
			return err
		}, codes.AlreadyExists, "snap-src"},
		{"expand past free space", func() error {
			_, err := c.ControllerExpandVolume(ctx, &csipb.ControllerExpandVolumeRequest{VolumeId: "pvc-src", CapacityRange: &csipb.CapacityRange{RequiredBytes: 1 << 62}})
			return err
		}, codes.OutOfRange, "free in the store"},
		{"expand another driver's volume", func() error {
			_, err := c.ControllerExpandVolume(ctx, &csipb.ControllerExpandVolumeRequest{VolumeId: "a/b", CapacityRange: &csipb.CapacityRange{RequiredBytes: 1}})
			return err
		}, codes.NotFound, ""},
		{"group of another driver's volume", func() error {
			_, err := c.CreateVolumeGroupSnapshot(ctx, &csipb.CreateVolumeGroupSnapshotRequest{Name: "g", SourceVolumeIds: []string{"pvc-src", "other#driver"}})
			return err
		}, codes.NotFound, "other#driver"},
		{"delete a group member alone", func() error {
			if _, err := c.CreateVolumeGroupSnapshot(ctx, &csipb.CreateVolumeGroupSnapshotRequest{Name: "grp", SourceVolumeIds: []string{"pvc-src"}}); err != nil {
				return err
			}
			defer c.DeleteVolumeGroupSnapshot(ctx, &csipb.DeleteVolumeGroupSnapshotRequest{GroupSnapshotId: "grp"})
			_, err := c.DeleteSnapshot(ctx, &csipb.DeleteSnapshotRequest{SnapshotId: "pvc-src@grp"})
			return err
		}, codes.InvalidArgument, "delete the group"},
		{"bad token", func() error {
			_, err := c.ListSnapshots(ctx, &csipb.ListSnapshotsRequest{StartingToken: "42"})
			return err
		}, codes.Aborted, "starting_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			st, _ := status.FromError(err)
			if st.Code() != tc.code {
				t.Fatalf("got %v, want code %v", err, tc.code)
			}
			if !strings.Contains(st.Message(), tc.msg) {
				t.Errorf("message %q does not mention %q", st.Message(), tc.msg)
			}
			if after := contents(t, b); !slices.Equal(after, before) {
				t.Errorf("a failed call changed the store:\n%v\nto\n%v", before, after)
			}
		})
	}
}

// TestIdempotence repeats creations: the same request returns the same
// volume or snapshot, an incompatible one fails with AlreadyExists.
func TestIdempotence(t *testing.T) {
	c, _ := newController(t)
	ctx := context.Background()
	nfs := map[string]string{"mounter": "nfs", "server": "gw.example", "share": "/", "subDir": "${pvc.metadata.namespace}",
		"mountOptions": "port=2049,mountport=2049", "csi.storage.k8s.io/pvc/namespace": "team", "csi.storage.k8s.io/pvc/name": "data"}
	first, err := c.CreateVolume(ctx, volumeReq("pvc-x", 1<<20, nfs))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"mounter": "nfs", "server": "gw.example", "share": "/", "subDir": "team", "mountOptions": "port=2049,mountport=2049"}
	if got := first.GetVolume().GetVolumeContext(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("volume context %v, want %v", got, want)
	}
	again, err := c.CreateVolume(ctx, volumeReq("pvc-x", 1<<20, nfs))
	if err != nil || again.GetVolume().GetVolumeId() != first.GetVolume().GetVolumeId() {
		t.Fatalf("again: %v %v", again, err)
	}
	_, err = c.CreateVolume(ctx, volumeReq("pvc-x", 1<<20, nil))
	wantCode(t, err, codes.AlreadyExists)
	// Names that are not cairn names are hashed, consistently.
	odd := "PVC with spaces/and slashes"
	a, err := c.CreateVolume(ctx, volumeReq(odd, 1<<20, nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreateVolume(ctx, volumeReq(odd, 1<<20, nil))
	if err != nil || a.GetVolume().GetVolumeId() != b.GetVolume().GetVolumeId() {
		t.Fatalf("odd name twice: %v %v %v", a, b, err)
	}
	// Expansion is idempotent and never shrinks.
	for _, size := range []int64{4 << 20, 4 << 20, 2 << 20} {
		r, err := c.ControllerExpandVolume(ctx, &csipb.ControllerExpandVolumeRequest{VolumeId: "pvc-x", CapacityRange: &csipb.CapacityRange{RequiredBytes: size}})
		if err != nil || r.GetCapacityBytes() != 4<<20 {
			t.Fatalf("expand to %d: %v %v", size, r, err)
		}
	}
}

// TestListVolumesPagination pages through volumes while they change:
// no entry is returned twice, tokens survive the deletion of the last
// entry of a page, and a new volume after the token shows up.
func TestListVolumesPagination(t *testing.T) {
	c, _ := newController(t)
	ctx := context.Background()
	for i := range 5 {
		if _, err := c.CreateVolume(ctx, volumeReq(fmt.Sprintf("pvc-%d", i), 1<<20, nil)); err != nil {
			t.Fatal(err)
		}
	}
	p1, err := c.ListVolumes(ctx, &csipb.ListVolumesRequest{MaxEntries: 2})
	if err != nil || len(p1.GetEntries()) != 2 || p1.GetNextToken() == "" {
		t.Fatalf("first page: %v %v", p1, err)
	}
	for _, e := range p1.GetEntries() {
		if _, err := c.DeleteVolume(ctx, &csipb.DeleteVolumeRequest{VolumeId: e.GetVolume().GetVolumeId()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateVolume(ctx, volumeReq("pvc-9", 1<<20, nil)); err != nil {
		t.Fatal(err)
	}
	var rest []string
	token := p1.GetNextToken()
	for {
		p, err := c.ListVolumes(ctx, &csipb.ListVolumesRequest{MaxEntries: 2, StartingToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.GetEntries() {
			rest = append(rest, e.GetVolume().GetVolumeId())
		}
		if token = p.GetNextToken(); token == "" {
			break
		}
	}
	if want := []string{"pvc-2", "pvc-3", "pvc-4", "pvc-9"}; !slices.Equal(rest, want) {
		t.Errorf("later pages %v, want %v", rest, want)
	}
	_, err = c.ListVolumes(ctx, &csipb.ListVolumesRequest{StartingToken: "invalid-token"})
	wantCode(t, err, codes.Aborted)
}

// TestVolumeHealth reports a volume abnormal while its chunk store is
// unreachable, and normal again once it is back.
func TestVolumeHealth(t *testing.T) {
	c, _, d := newControllerData(t)
	ctx := context.Background()
	if _, err := c.CreateVolume(ctx, volumeReq("pvc-h", 1<<20, nil)); err != nil {
		t.Fatal(err)
	}
	health := func() []string {
		t.Helper()
		r, err := c.ControllerGetVolumeHealth(ctx, &csipb.ControllerGetVolumeHealthRequest{VolumeId: "pvc-h"})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range r.GetVolumeHealth().GetHealthStatuses() {
			out = append(out, h.GetStatus().String()+" "+h.GetReason())
		}
		list, err := c.ControllerListVolumeHealth(ctx, &csipb.ControllerListVolumeHealthRequest{})
		if err != nil || len(list.GetEntries()) != min(len(out), 1) {
			t.Errorf("list volume health: %v %v, want the abnormal volumes only", list, err)
		}
		return out
	}
	if h := health(); len(h) != 0 {
		t.Fatalf("health of a fresh volume: %v", h)
	}
	chunks := filepath.Join(d.Dir, "chunks")
	if err := os.Rename(chunks, chunks+".away"); err != nil {
		t.Fatal(err)
	}
	if h := health(); !slices.Equal(h, []string{"INACCESSIBLE StoreUnreachable"}) {
		t.Errorf("health with the chunk store gone: %v", h)
	}
	if err := os.Rename(chunks+".away", chunks); err != nil {
		t.Fatal(err)
	}
	if h := health(); len(h) != 0 {
		t.Errorf("health once the store is back: %v", h)
	}
	_, err := c.ControllerGetVolumeHealth(ctx, &csipb.ControllerGetVolumeHealthRequest{VolumeId: "pvc-missing"})
	wantCode(t, err, codes.NotFound)
	v, err := c.ControllerGetVolume(ctx, &csipb.ControllerGetVolumeRequest{VolumeId: "pvc-h"})
	if err != nil || v.GetVolume().GetCapacityBytes() != 1<<20 {
		t.Fatalf("ControllerGetVolume: %v %v", v, err)
	}
}
