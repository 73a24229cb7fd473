package control_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// volumeNames lists every volume through the API.
func volumeNames(t *testing.T, d *daemon) []string {
	t.Helper()
	resp, err := d.api.Volumes.ListVolumes(ctx(t), &cairnv1.ListVolumesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range resp.GetVolumes() {
		names = append(names, v.GetName())
	}
	return names
}

// TestCloneVolume clones a snapshot and a live volume, each with its own
// configuration; bad requests fail with a clear code and create nothing
// (no volume, no leftover temporary snapshot).
func TestCloneVolume(t *testing.T) {
	d := startDaemon(t)
	c := ctx(t)
	snapVolume(t, d, "src", map[string]string{"a": "at the snapshot"})
	if _, err := d.api.Snapshots.CreateSnapshot(c, &cairnv1.CreateSnapshotRequest{Volume: "src", Name: "s1"}); err != nil {
		t.Fatal(err)
	}
	snapWriteFiles(t, d, "src", map[string]string{"b": "after the snapshot"})
	labels := map[string]string{"owner": "test"}
	for _, tc := range []struct{ source, name, a, b string }{
		{"src@s1", "from-snap", "at the snapshot", ""},
		{"src", "from-live", "at the snapshot", "after the snapshot"},
	} {
		v, err := d.api.Volumes.CloneVolume(c, &cairnv1.CloneVolumeRequest{Source: tc.source, Name: tc.name,
			Quota: 1 << 20, Compress: true, Replicas: 2, Labels: labels})
		if err != nil {
			t.Fatalf("clone %s: %v", tc.source, err)
		}
		if v.GetName() != tc.name || v.GetQuota() != 1<<20 || !v.GetCompress() || v.GetReplicas() != 2 || v.GetLabels()["owner"] != "test" {
			t.Errorf("clone of %s: %v, want the request's configuration", tc.source, v)
		}
		if got, _ := snapReadFile(t, d, tc.name, "a"); got != tc.a {
			t.Errorf("clone of %s: a holds %q, want %q", tc.source, got, tc.a)
		}
		if got, _ := snapReadFile(t, d, tc.name, "b"); got != tc.b {
			t.Errorf("clone of %s: b holds %q, want %q", tc.source, got, tc.b)
		}
	}
	vols, snaps := volumeNames(t, d), snapRefs(t, d)
	if !slices.Equal(snaps, []string{"src@s1"}) {
		t.Errorf("snapshots after the clones: %v, want src@s1 only", snaps)
	}
	for _, tc := range []struct {
		name string
		req  *cairnv1.CloneVolumeRequest
		code codes.Code
	}{
		{"no source", &cairnv1.CloneVolumeRequest{Name: "x"}, codes.InvalidArgument},
		{"no name", &cairnv1.CloneVolumeRequest{Source: "src"}, codes.InvalidArgument},
		{"bad name", &cairnv1.CloneVolumeRequest{Source: "src", Name: "-x"}, codes.InvalidArgument},
		{"negative replicas", &cairnv1.CloneVolumeRequest{Source: "src", Name: "x", Replicas: -1}, codes.InvalidArgument},
		{"unknown volume", &cairnv1.CloneVolumeRequest{Source: "nope", Name: "x"}, codes.NotFound},
		{"unknown snapshot", &cairnv1.CloneVolumeRequest{Source: "src@nope", Name: "x"}, codes.NotFound},
		{"name taken", &cairnv1.CloneVolumeRequest{Source: "src@s1", Name: "from-snap"}, codes.AlreadyExists},
		{"quota below the source", &cairnv1.CloneVolumeRequest{Source: "src", Name: "x", Quota: 1}, codes.FailedPrecondition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.api.Volumes.CloneVolume(c, tc.req)
			wantCode(t, err, tc.code)
			if got := volumeNames(t, d); !slices.Equal(got, vols) {
				t.Errorf("volumes %v after a refused clone, want %v", got, vols)
			}
			snapUnchanged(t, d, snaps)
		})
	}
}

// TestCapacityAndCheckVolume: the store's capacity is the data
// directory's file system; a volume check answers for existing volumes
// and NotFound for others; the health check fails while the chunk
// directory is gone.
func TestCapacityAndCheckVolume(t *testing.T) {
	d := startDaemon(t)
	c := ctx(t)
	cp, err := d.api.Volumes.GetCapacity(c, &cairnv1.GetCapacityRequest{})
	if err != nil || cp.GetTotalBytes() == 0 || cp.GetFreeBytes() > cp.GetTotalBytes() {
		t.Fatalf("capacity %v, %v: want free <= total, total > 0", cp, err)
	}
	snapVolume(t, d, "v", nil)
	for _, tc := range []struct {
		name string
		code codes.Code
	}{{"v", codes.OK}, {"nope", codes.NotFound}, {"", codes.InvalidArgument}} {
		_, err := d.api.Health.CheckVolume(c, &cairnv1.CheckVolumeRequest{Name: tc.name})
		wantCode(t, err, tc.code)
	}
	chunks := filepath.Join(d.dir, "chunks")
	if err := os.Rename(chunks, chunks+".away"); err != nil {
		t.Fatal(err)
	}
	_, err = d.api.Health.Check(c, &cairnv1.CheckRequest{})
	wantCode(t, err, codes.Unavailable)
	if err := os.Rename(chunks+".away", chunks); err != nil {
		t.Fatal(err)
	}
	if _, err := d.api.Health.Check(c, &cairnv1.CheckRequest{}); err != nil {
		t.Fatal(err)
	}
}

// TestMountOwner: a mount records the owner its request names (the CSI
// driver's publications are "csi"); an unknown owner is refused.
func TestMountOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("FUSE mounts need root")
	}
	d := startDaemon(t)
	c := ctx(t)
	snapVolume(t, d, "v", nil)
	dir := t.TempDir()
	_, err := d.api.Mounts.Mount(c, &cairnv1.MountRequest{Volume: "v", Mountpoint: dir, Owner: "someone"})
	wantCode(t, err, codes.InvalidArgument)
	if _, err := d.api.Mounts.Mount(c, &cairnv1.MountRequest{Volume: "v", Mountpoint: dir, Owner: "csi"}); err != nil {
		t.Fatal(err)
	}
	defer d.api.Mounts.Unmount(c, &cairnv1.UnmountRequest{Mountpoint: dir})
	list, err := d.api.Mounts.ListMounts(c, &cairnv1.ListMountsRequest{})
	if err != nil || len(list.GetMounts()) != 1 || list.GetMounts()[0].GetOwner() != "csi" {
		t.Fatalf("mounts %v, %v: want one owned by csi", list.GetMounts(), err)
	}
}
