package csi_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/status"
)

// TestClones clones a volume from a snapshot and from a volume: each
// holds its source's files, and changes stay on their side.
func TestClones(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	src := e.createVolume("pvc-src", 64<<20, nil)
	dir := filepath.Join(e.dir, "src")
	e.publish(src.VolumeId, dir, false)
	write(t, filepath.Join(dir, "f"), "version 1")

	snap, err := e.ctrl.CreateSnapshot(ctx, &csipb.CreateSnapshotRequest{Name: "snapshot-1", SourceVolumeId: src.VolumeId})
	if err != nil {
		t.Fatal(err)
	}
	if s := snap.GetSnapshot(); !s.GetReadyToUse() || s.GetSizeBytes() != int64(len("version 1")) {
		t.Errorf("snapshot %v: want ready, of 9 bytes", s)
	}
	write(t, filepath.Join(dir, "f"), "version 2")

	fromSnap := volumeReq("pvc-from-snap", 64<<20, nil)
	fromSnap.VolumeContentSource = &csipb.VolumeContentSource{Type: &csipb.VolumeContentSource_Snapshot{
		Snapshot: &csipb.VolumeContentSource_SnapshotSource{SnapshotId: snap.GetSnapshot().GetSnapshotId()}}}
	fromVol := volumeReq("pvc-from-vol", 64<<20, nil)
	fromVol.VolumeContentSource = &csipb.VolumeContentSource{Type: &csipb.VolumeContentSource_Volume{
		Volume: &csipb.VolumeContentSource_VolumeSource{VolumeId: src.VolumeId}}}
	for _, tc := range []struct {
		req  *csipb.CreateVolumeRequest
		want string
	}{{fromSnap, "version 1"}, {fromVol, "version 2"}} {
		resp, err := e.ctrl.CreateVolume(ctx, tc.req)
		if err != nil {
			t.Fatal(err)
		}
		v := resp.GetVolume()
		if v.GetContentSource() == nil || v.GetCapacityBytes() != 64<<20 {
			t.Errorf("clone %v: want its content source and 64 MiB", v)
		}
		again, err := e.ctrl.CreateVolume(ctx, tc.req)
		if err != nil || again.GetVolume().GetVolumeId() != v.GetVolumeId() {
			t.Fatalf("clone again: %v %v", again, err)
		}
		cdir := filepath.Join(e.dir, v.GetVolumeId())
		e.publish(v.GetVolumeId(), cdir, false)
		expect(t, filepath.Join(cdir, "f"), tc.want)
		write(t, filepath.Join(cdir, "f"), "changed in the clone")
		expect(t, filepath.Join(dir, "f"), "version 2")
		e.unpublish(v.GetVolumeId(), cdir)
	}
	// The clone from a volume left no snapshot behind.
	list, err := e.ctrl.ListSnapshots(ctx, &csipb.ListSnapshotsRequest{SourceVolumeId: src.VolumeId})
	if err != nil || len(list.GetEntries()) != 1 {
		t.Errorf("snapshots of the source: %v %v, want only snapshot-1", list, err)
	}
	// A mounted volume cannot be deleted; once unpublished it can.
	_, err = e.ctrl.DeleteVolume(ctx, &csipb.DeleteVolumeRequest{VolumeId: src.VolumeId})
	if code := errorCode(err); code != "FailedPrecondition" {
		t.Errorf("delete a mounted volume: %v, want FailedPrecondition", err)
	}
	e.unpublish(src.VolumeId, dir)
	if _, err := e.ctrl.DeleteVolume(ctx, &csipb.DeleteVolumeRequest{VolumeId: src.VolumeId}); err != nil {
		t.Fatal(err)
	}
}

// TestExpandMounted raises the quota of a mounted volume: the mount sees
// the new size at once.
func TestExpandMounted(t *testing.T) {
	e := newEnv(t)
	v := e.createVolume("pvc-grow", 8<<20, nil)
	dir := filepath.Join(e.dir, "pod")
	e.publish(v.VolumeId, dir, false)
	if err := os.WriteFile(filepath.Join(dir, "big"), make([]byte, 12<<20), 0o644); !errors.Is(err, unix.EDQUOT) && !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("write past the quota: %v, want EDQUOT or ENOSPC", err)
	}
	if _, err := e.ctrl.ControllerExpandVolume(context.Background(), &csipb.ControllerExpandVolumeRequest{
		VolumeId: v.VolumeId, CapacityRange: &csipb.CapacityRange{RequiredBytes: 32 << 20}}); err != nil {
		t.Fatal(err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if got := st.Blocks * uint64(st.Bsize); got != 32<<20 {
		t.Errorf("size seen by the mount: %d, want 32 MiB", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "big"), make([]byte, 12<<20), 0o644); err != nil {
		t.Fatalf("write after expansion: %v", err)
	}
	e.unpublish(v.VolumeId, dir)
}

// TestGroupSnapshot cuts two volumes at one instant while a writer
// creates file i in volume a, then file i in volume b: in the clones of
// the group, b's files must be a subset of a's (a later cut of a would
// miss files b has).
func TestGroupSnapshot(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	va, vb := e.createVolume("pvc-a", 64<<20, nil), e.createVolume("pvc-b", 64<<20, nil)
	da, db := filepath.Join(e.dir, "a"), filepath.Join(e.dir, "b")
	e.publish(va.VolumeId, da, false)
	e.publish(vb.VolumeId, db, false)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var werr error
	go func() {
		defer wg.Done()
		for i := 0; i < 20000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			for _, d := range []string{da, db} {
				if err := os.WriteFile(filepath.Join(d, strconv.Itoa(i)), []byte("x"), 0o644); err != nil {
					werr = err
					return
				}
			}
		}
	}()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ents, _ := os.ReadDir(db); len(ents) >= 200 { // let the writer get going
			break
		}
	}
	resp, err := e.group.CreateVolumeGroupSnapshot(ctx, &csipb.CreateVolumeGroupSnapshotRequest{
		Name: "groupsnapshot-1", SourceVolumeIds: []string{va.VolumeId, vb.VolumeId}})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if werr != nil {
		t.Fatal(werr)
	}
	g := resp.GetGroupSnapshot()
	if len(g.GetSnapshots()) != 2 || !g.GetReadyToUse() {
		t.Fatalf("group snapshot %v", g)
	}
	got, err := e.group.GetVolumeGroupSnapshot(ctx, &csipb.GetVolumeGroupSnapshotRequest{GroupSnapshotId: g.GetGroupSnapshotId()})
	if err != nil || len(got.GetGroupSnapshot().GetSnapshots()) != 2 {
		t.Fatalf("get group snapshot: %v %v", got, err)
	}
	files := map[string]map[string]bool{}
	for _, s := range g.GetSnapshots() {
		if s.GetGroupSnapshotId() != g.GetGroupSnapshotId() {
			t.Errorf("member %v: want group id %q", s, g.GetGroupSnapshotId())
		}
		req := volumeReq("clone-of-"+s.GetSourceVolumeId(), 64<<20, nil)
		req.VolumeContentSource = &csipb.VolumeContentSource{Type: &csipb.VolumeContentSource_Snapshot{
			Snapshot: &csipb.VolumeContentSource_SnapshotSource{SnapshotId: s.GetSnapshotId()}}}
		c, err := e.ctrl.CreateVolume(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(e.dir, "clone-"+s.GetSourceVolumeId())
		e.publish(c.GetVolume().GetVolumeId(), dir, true)
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		files[s.GetSourceVolumeId()] = map[string]bool{}
		for _, ent := range ents {
			files[s.GetSourceVolumeId()][ent.Name()] = true
		}
		e.unpublish(c.GetVolume().GetVolumeId(), dir)
	}
	a, b := files[va.VolumeId], files[vb.VolumeId]
	for f := range b {
		if !a[f] {
			t.Errorf("file %s is in b's snapshot but not in a's: the cut was not one instant", f)
		}
	}
	if len(a) > len(b)+1 {
		t.Errorf("a's snapshot has %d files, b's %d: want at most one more", len(a), len(b))
	}
	t.Logf("cut after %d files in a, %d in b", len(a), len(b))
	if _, err := e.group.DeleteVolumeGroupSnapshot(ctx, &csipb.DeleteVolumeGroupSnapshotRequest{
		GroupSnapshotId: g.GetGroupSnapshotId(), SnapshotIds: []string{g.GetSnapshots()[1].GetSnapshotId(), g.GetSnapshots()[0].GetSnapshotId()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.group.GetVolumeGroupSnapshot(ctx, &csipb.GetVolumeGroupSnapshotRequest{GroupSnapshotId: g.GetGroupSnapshotId()}); errorCode(err) != "NotFound" {
		t.Errorf("get a deleted group snapshot: %v", err)
	}
	e.unpublish(va.VolumeId, da)
	e.unpublish(vb.VolumeId, db)
}

// errorCode names the gRPC code of err ("OK" for nil).
func errorCode(err error) string { return status.Code(err).String() }
