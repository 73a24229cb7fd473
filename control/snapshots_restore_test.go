package control_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

func TestRestoreVolume(t *testing.T) {
	d := startDaemon(t)
	snapVolume(t, d, "a", map[string]string{"f": "one"})
	if _, err := d.api.Snapshots.CreateSnapshot(ctx(t), &cairnv1.CreateSnapshotRequest{Volume: "a", Name: "s"}); err != nil {
		t.Fatal(err)
	}
	snapWriteFiles(t, d, "a", map[string]string{"g": "later"})
	restore := func(vol, snap string) func(t *testing.T) error {
		return func(t *testing.T) error {
			_, err := d.api.Snapshots.RestoreVolume(ctx(t), &cairnv1.RestoreVolumeRequest{Volume: vol, Snapshot: snap})
			return err
		}
	}
	runSnapCases(t, d, []snapCase{
		{name: "no volume", code: codes.InvalidArgument, call: restore("", "s")},
		{name: "no snapshot", code: codes.InvalidArgument, call: restore("a", "")},
		{name: "unknown volume", code: codes.NotFound, call: restore("nope", "s")},
		{name: "unknown snapshot", code: codes.NotFound, call: restore("a", "nope")},
		{name: "bad snapshot name", code: codes.InvalidArgument, call: restore("a", "bad name")},
	})
	if _, ok := snapReadFile(t, d, "a", "g"); !ok {
		t.Fatal("a refused restore changed the volume")
	}
	runSnapCases(t, d, []snapCase{
		{name: "restored", code: codes.OK, call: restore("a", "s"), check: func(t *testing.T) {
			if _, ok := snapReadFile(t, d, "a", "g"); ok {
				t.Fatal("g survived the restore")
			}
			if got, _ := snapReadFile(t, d, "a", "f"); got != "one" {
				t.Fatalf("f holds %q", got)
			}
			if !slices.Contains(snapRefs(t, d), "a@s") {
				t.Fatal("the volume lost its snapshot")
			}
		}},
		{name: "by full ref", code: codes.OK, call: restore("a", "a@s")},
	})
}

// A volume that is mounted is not restored: the refusal names the mount.
func TestRestoreMountedVolume(t *testing.T) {
	d := startDaemon(t)
	snapVolume(t, d, "a", nil)
	if _, err := d.api.Snapshots.CreateSnapshot(ctx(t), &cairnv1.CreateSnapshotRequest{Volume: "a", Name: "s"}); err != nil {
		t.Fatal(err)
	}
	snapWriteFiles(t, d, "a", map[string]string{"g": "later"})
	dir, unmount := snapMount(t, d, "a", false)
	_, err := d.api.Snapshots.RestoreVolume(ctx(t), &cairnv1.RestoreVolumeRequest{Volume: "a", Snapshot: "s"})
	wantCode(t, err, codes.FailedPrecondition)
	if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "FUSE mount") {
		t.Fatalf("%v does not name the mount %s", err, dir)
	}
	unmount()
	if _, ok := snapReadFile(t, d, "a", "g"); !ok {
		t.Fatal("the refused restore changed the volume")
	}
	if _, err := d.api.Snapshots.RestoreVolume(ctx(t), &cairnv1.RestoreVolumeRequest{Volume: "a", Snapshot: "s"}); err != nil {
		t.Fatalf("restore once unmounted: %v", err)
	}
}

func TestCloneSnapshot(t *testing.T) {
	d := startDaemon(t)
	snapVolume(t, d, "a", map[string]string{"f": "one"})
	if _, err := d.api.Snapshots.CreateSnapshot(ctx(t), &cairnv1.CreateSnapshotRequest{Volume: "a", Name: "s"}); err != nil {
		t.Fatal(err)
	}
	clone := func(snap, name string) func(t *testing.T) error {
		return func(t *testing.T) error {
			_, err := d.api.Snapshots.CloneSnapshot(ctx(t), &cairnv1.CloneSnapshotRequest{Snapshot: snap, Name: name})
			return err
		}
	}
	runSnapCases(t, d, []snapCase{
		{name: "clone", code: codes.OK, call: clone("a@s", "c"), check: func(t *testing.T) {
			if got, _ := snapReadFile(t, d, "c", "f"); got != "one" {
				t.Fatalf("clone's f holds %q", got)
			}
		}},
		{name: "existing name", code: codes.AlreadyExists, call: clone("a@s", "a")},
		{name: "unknown snapshot", code: codes.NotFound, call: clone("a@nope", "d")},
		{name: "bad new name", code: codes.InvalidArgument, call: clone("a@s", "d/e")},
		{name: "no snapshot", code: codes.InvalidArgument, call: clone("", "d")},
		{name: "no name", code: codes.InvalidArgument, call: clone("a@s", "")},
	})
	vols, err := d.api.Volumes.ListVolumes(ctx(t), &cairnv1.ListVolumesRequest{})
	if err != nil || len(vols.GetVolumes()) != 2 {
		t.Fatalf("volumes after the refused clones: %v, %v", vols, err)
	}
}

func TestSnapshotSchedules(t *testing.T) {
	d := startDaemon(t)
	snapVolume(t, d, "a", nil)
	set := func(s *cairnv1.Schedule) func(t *testing.T) error {
		return func(t *testing.T) error {
			_, err := d.api.Snapshots.SetSchedule(ctx(t), &cairnv1.SetScheduleRequest{Schedule: s})
			return err
		}
	}
	remove := func(vol string) func(t *testing.T) error {
		return func(t *testing.T) error {
			_, err := d.api.Snapshots.RemoveSchedule(ctx(t), &cairnv1.RemoveScheduleRequest{Volume: vol})
			return err
		}
	}
	hour := durationpb.New(time.Hour)
	runSnapCases(t, d, []snapCase{
		{name: "set", code: codes.OK, call: set(&cairnv1.Schedule{Volume: "a", Every: hour, Keep: 3, PreHook: "sync"}),
			check: func(t *testing.T) { snapWantSchedules(t, d, "a every 1h0m0s keep 3 pre sync") }},
	})
	runSnapCases(t, d, []snapCase{
		{name: "too often", code: codes.InvalidArgument, call: set(&cairnv1.Schedule{Volume: "a", Every: durationpb.New(time.Second), Keep: 3})},
		{name: "keep none", code: codes.InvalidArgument, call: set(&cairnv1.Schedule{Volume: "a", Every: hour})},
		{name: "unknown volume", code: codes.NotFound, call: set(&cairnv1.Schedule{Volume: "nope", Every: hour, Keep: 1})},
		{name: "bad volume name", code: codes.InvalidArgument, call: set(&cairnv1.Schedule{Volume: "no pe", Every: hour, Keep: 1})},
		{name: "no schedule", code: codes.InvalidArgument, call: set(nil)},
		{name: "no volume", code: codes.InvalidArgument, call: set(&cairnv1.Schedule{Every: hour, Keep: 1})},
		{name: "remove unknown", code: codes.NotFound, call: remove("nope")},
		{name: "remove no volume", code: codes.InvalidArgument, call: remove("")},
	})
	snapWantSchedules(t, d, "a every 1h0m0s keep 3 pre sync") // the refused calls changed nothing
	runSnapCases(t, d, []snapCase{
		{name: "remove", code: codes.OK, call: remove("a"), check: func(t *testing.T) { snapWantSchedules(t, d) }},
		{name: "remove again", code: codes.NotFound, call: remove("a")},
	})
}

// snapWantSchedules fails unless ListSchedules lists want, each as
// "VOLUME every EVERY keep KEEP pre PRE".
func snapWantSchedules(t *testing.T, d *daemon, want ...string) {
	t.Helper()
	resp, err := d.api.Snapshots.ListSchedules(ctx(t), &cairnv1.ListSchedulesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range resp.GetSchedules() {
		got = append(got, s.GetVolume()+" every "+s.GetEvery().AsDuration().String()+" keep "+
			strconv.Itoa(int(s.GetKeep()))+" pre "+s.GetPreHook())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("schedules %q, want %q", got, want)
	}
}
