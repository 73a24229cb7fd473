package control_test

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// snapCase is one call of a table test: code is what it must return;
// check, if set, verifies the state after a success. A refused call must
// leave the snapshots as they were.
type snapCase struct {
	name  string
	call  func(t *testing.T) error
	code  codes.Code
	check func(t *testing.T)
}

// runSnapCases runs the cases in order on d.
func runSnapCases(t *testing.T, d *daemon, cases []snapCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := snapRefs(t, d)
			err := tc.call(t)
			wantCode(t, err, tc.code)
			if tc.code != codes.OK {
				snapUnchanged(t, d, before)
			} else if tc.check != nil {
				tc.check(t)
			}
		})
	}
}

func TestCreateSnapshot(t *testing.T) {
	d := startDaemon(t)
	snapVolume(t, d, "a", map[string]string{"f": "one"})
	snapVolume(t, d, "b", nil)
	create := func(r *cairnv1.CreateSnapshotRequest) func(t *testing.T) error {
		return func(t *testing.T) error { _, err := d.api.Snapshots.CreateSnapshot(ctx(t), r); return err }
	}
	pre := &cairnv1.HookRun{Phase: "pre", Command: "psql -c CHECKPOINT"}
	runSnapCases(t, d, []snapCase{
		{name: "single with labels and hooks", code: codes.OK,
			call: create(&cairnv1.CreateSnapshotRequest{Volume: "a", Name: "s1", Labels: map[string]string{"k": "v"},
				Hooks: []*cairnv1.HookRun{pre}}),
			check: func(t *testing.T) {
				s := snapGet(t, d, "a@s1")
				if s.GetFiles() != 2 || s.GetBytes() != 3 || s.GetLabels()["k"] != "v" || len(s.GetHooks()) != 1 ||
					s.GetHooks()[0].GetCommand() != pre.Command || s.GetRoot() == "" {
					t.Fatalf("recorded %v", s)
				}
			}},
		{name: "group", code: codes.OK,
			call: create(&cairnv1.CreateSnapshotRequest{Group: "g", Volumes: []string{"a", "b"}}),
			check: func(t *testing.T) {
				for _, ref := range []string{"a@g", "b@g"} {
					if s := snapGet(t, d, ref); s.GetGroup() != "g" {
						t.Fatalf("%s: group %q", ref, s.GetGroup())
					}
				}
			}},
		{name: "validate only", code: codes.OK,
			call: create(&cairnv1.CreateSnapshotRequest{Volume: "a", Name: "s2", ValidateOnly: true}),
			check: func(t *testing.T) {
				if slices.Contains(snapRefs(t, d), "a@s2") {
					t.Fatal("validate_only took a snapshot")
				}
			}},
		{name: "no volume", code: codes.InvalidArgument, call: create(&cairnv1.CreateSnapshotRequest{Name: "x"})},
		{name: "no name", code: codes.InvalidArgument, call: create(&cairnv1.CreateSnapshotRequest{Volume: "a"})},
		{name: "unknown volume", code: codes.NotFound, call: create(&cairnv1.CreateSnapshotRequest{Volume: "nope", Name: "x"})},
		{name: "bad name", code: codes.InvalidArgument, call: create(&cairnv1.CreateSnapshotRequest{Volume: "a", Name: "bad name"})},
		{name: "bad volume name", code: codes.InvalidArgument, call: create(&cairnv1.CreateSnapshotRequest{Volume: "a/b", Name: "x"})},
		{name: "duplicate", code: codes.AlreadyExists, call: create(&cairnv1.CreateSnapshotRequest{Volume: "a", Name: "s1"})},
		{name: "duplicate, validate only", code: codes.AlreadyExists,
			call: create(&cairnv1.CreateSnapshotRequest{Volume: "a", Name: "s1", ValidateOnly: true})},
		{name: "group duplicate in one volume", code: codes.AlreadyExists,
			call: create(&cairnv1.CreateSnapshotRequest{Group: "s1", Volumes: []string{"b", "a"}})},
		{name: "group without volumes", code: codes.InvalidArgument, call: create(&cairnv1.CreateSnapshotRequest{Group: "h"})},
		{name: "group volume twice", code: codes.InvalidArgument,
			call: create(&cairnv1.CreateSnapshotRequest{Group: "h", Volumes: []string{"a", "a"}})},
		{name: "group unknown volume", code: codes.NotFound,
			call: create(&cairnv1.CreateSnapshotRequest{Group: "h", Volumes: []string{"a", "nope"}})},
		{name: "group named otherwise", code: codes.InvalidArgument,
			call: create(&cairnv1.CreateSnapshotRequest{Group: "h", Name: "other", Volumes: []string{"a"}})},
		{name: "volumes without group", code: codes.InvalidArgument,
			call: create(&cairnv1.CreateSnapshotRequest{Volume: "a", Name: "h", Volumes: []string{"b"}})},
		{name: "bad hook phase", code: codes.InvalidArgument,
			call: create(&cairnv1.CreateSnapshotRequest{Volume: "a", Name: "h", Hooks: []*cairnv1.HookRun{{Phase: "mid", Command: "x"}}})},
	})
}

func TestAddSnapshotHooks(t *testing.T) {
	d := startDaemon(t)
	snapVolume(t, d, "a", nil)
	snapVolume(t, d, "b", nil)
	pre := &cairnv1.HookRun{Phase: "pre", Command: "freeze"}
	post := &cairnv1.HookRun{Phase: "post", Command: "thaw", ExitCode: 1, Error: "exit status 1"}
	if _, err := d.api.Snapshots.CreateSnapshot(ctx(t), &cairnv1.CreateSnapshotRequest{Group: "g", Volumes: []string{"a", "b"},
		Hooks: []*cairnv1.HookRun{pre}}); err != nil {
		t.Fatal(err)
	}
	add := func(refs []string, hooks ...*cairnv1.HookRun) func(t *testing.T) error {
		return func(t *testing.T) error {
			_, err := d.api.Snapshots.AddSnapshotHooks(ctx(t), &cairnv1.AddSnapshotHooksRequest{Snapshots: refs, Hooks: hooks})
			return err
		}
	}
	runSnapCases(t, d, []snapCase{
		{name: "post-hook of a group", code: codes.OK, call: add([]string{"a@g", "b@g"}, post),
			check: func(t *testing.T) {
				for _, ref := range []string{"a@g", "b@g"} {
					h := snapGet(t, d, ref).GetHooks()
					if len(h) != 2 || h[0].GetPhase() != "pre" || h[1].GetCommand() != "thaw" || h[1].GetExitCode() != 1 {
						t.Fatalf("%s records hooks %v", ref, h)
					}
				}
			}},
		{name: "unknown snapshot", code: codes.NotFound, call: add([]string{"a@nope"}, post)},
		{name: "no snapshots", code: codes.InvalidArgument, call: add(nil, post)},
		{name: "no hooks", code: codes.InvalidArgument, call: add([]string{"a@g"})},
		{name: "bad ref", code: codes.InvalidArgument, call: add([]string{"a"}, post)},
	})
	if h := snapGet(t, d, "a@g").GetHooks(); len(h) != 2 {
		t.Fatalf("refused calls changed the hooks: %v", h)
	}
}

func TestListGetDeleteSnapshots(t *testing.T) {
	d := startDaemon(t)
	snapVolume(t, d, "a", map[string]string{"f": strings.Repeat("x", 10000)})
	snapVolume(t, d, "b", nil)
	for _, r := range []*cairnv1.CreateSnapshotRequest{{Volume: "a", Name: "s1"}, {Volume: "a", Name: "s2"}, {Volume: "b", Name: "s1"}} {
		if _, err := d.api.Snapshots.CreateSnapshot(ctx(t), r); err != nil {
			t.Fatal(err)
		}
	}
	list := func(vol string) func(t *testing.T) error {
		return func(t *testing.T) error {
			_, err := d.api.Snapshots.ListSnapshots(ctx(t), &cairnv1.ListSnapshotsRequest{Volume: vol})
			return err
		}
	}
	get := func(ref string, unique bool) func(t *testing.T) error {
		return func(t *testing.T) error {
			_, err := d.api.Snapshots.GetSnapshot(ctx(t), &cairnv1.GetSnapshotRequest{Ref: ref, Unique: unique})
			return err
		}
	}
	del := func(ref string) func(t *testing.T) error {
		return func(t *testing.T) error {
			_, err := d.api.Snapshots.DeleteSnapshot(ctx(t), &cairnv1.DeleteSnapshotRequest{Ref: ref})
			return err
		}
	}
	runSnapCases(t, d, []snapCase{
		{name: "list all", code: codes.OK, call: list(""), check: func(t *testing.T) {
			if got := snapRefs(t, d); !slices.Equal(got, []string{"a@s1", "a@s2", "b@s1"}) {
				t.Fatalf("listed %v", got)
			}
		}},
		{name: "list one volume", code: codes.OK, call: list("b"), check: func(t *testing.T) {
			resp, err := d.api.Snapshots.ListSnapshots(ctx(t), &cairnv1.ListSnapshotsRequest{Volume: "b"})
			if err != nil || len(resp.GetSnapshots()) != 1 || resp.GetSnapshots()[0].GetVolume() != "b" {
				t.Fatalf("listed %v, %v", resp, err)
			}
		}},
		{name: "list unknown volume", code: codes.NotFound, call: list("nope")},
		{name: "list bad volume name", code: codes.InvalidArgument, call: list("no pe")},
		{name: "get", code: codes.OK, call: get("a@s1", false)},
		{name: "get unique", code: codes.OK, call: get("a@s1", true), check: func(t *testing.T) {
			// Drop what a@s2 and the live volume share with a@s1.
			wantCode(t, del("a@s2")(t), codes.OK)
			snapWriteFiles(t, d, "a", map[string]string{"g": "other"})
			snapRemoveFile(t, d, "a", "f")
			resp, err := d.api.Snapshots.GetSnapshot(ctx(t), &cairnv1.GetSnapshotRequest{Ref: "a@s1", Unique: true})
			if err != nil || resp.GetUniqueBytes() < 10000 || resp.GetUniqueChunks() == 0 || resp.GetSnapshot().GetName() != "s1" {
				t.Fatalf("got %v, %v", resp, err)
			}
		}},
		{name: "get unknown", code: codes.NotFound, call: get("a@nope", false)},
		{name: "get unknown volume", code: codes.NotFound, call: get("nope@s1", true)},
		{name: "get bad ref", code: codes.InvalidArgument, call: get("a", false)},
		{name: "get no ref", code: codes.InvalidArgument, call: get("", false)},
		{name: "delete", code: codes.OK, call: del("b@s1"), check: func(t *testing.T) {
			if slices.Contains(snapRefs(t, d), "b@s1") {
				t.Fatal("b@s1 still listed")
			}
		}},
		{name: "delete unknown", code: codes.NotFound, call: del("b@s1")},
		{name: "delete bad ref", code: codes.InvalidArgument, call: del("b@bad name")},
		{name: "delete no ref", code: codes.InvalidArgument, call: del("")},
	})
}

func TestDeleteMountedSnapshot(t *testing.T) {
	d := startDaemon(t)
	snapVolume(t, d, "a", nil)
	if _, err := d.api.Snapshots.CreateSnapshot(ctx(t), &cairnv1.CreateSnapshotRequest{Volume: "a", Name: "s"}); err != nil {
		t.Fatal(err)
	}
	dir, unmount := snapMount(t, d, "a@s", true)
	_, err := d.api.Snapshots.DeleteSnapshot(ctx(t), &cairnv1.DeleteSnapshotRequest{Ref: "a@s"})
	wantCode(t, err, codes.FailedPrecondition)
	if !strings.Contains(err.Error(), dir) {
		t.Fatalf("%v does not name the mount %s", err, dir)
	}
	snapUnchanged(t, d, []string{"a@s"})
	unmount()
	if _, err := d.api.Snapshots.DeleteSnapshot(ctx(t), &cairnv1.DeleteSnapshotRequest{Ref: "a@s"}); err != nil {
		t.Fatal(err)
	}
}

// snapGet returns a snapshot through the API.
func snapGet(t *testing.T, d *daemon, ref string) *cairnv1.Snapshot {
	t.Helper()
	resp, err := d.api.Snapshots.GetSnapshot(ctx(t), &cairnv1.GetSnapshotRequest{Ref: ref})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetSnapshot()
}
