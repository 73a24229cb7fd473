package control_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/chunks/chunkstest"
	"github.com/cairn-storage/cairn/fs"
)

// TestFsck checks a clean data directory with and without reading the
// chunks, refuses a repair while the daemon runs, and finds a chunk
// deleted behind the cache's back (fsck reads the disk).
func TestFsck(t *testing.T) {
	d := startDaemon(t)
	data := string(chunkstest.Random(500<<10, 3))
	snapVolume(t, d, "v", map[string]string{"f": data, "g": "small"})
	fsck := func(req *cairnv1.FsckRequest) func(t *testing.T) ([]*cairnv1.Progress, *cairnv1.FsckResponse, error) {
		return func(t *testing.T) ([]*cairnv1.Progress, *cairnv1.FsckResponse, error) {
			s, err := d.api.Maintenance.Fsck(ctx(t), req)
			return readProgress(t, s, err)
		}
	}
	stored := chunkCount(t, d)
	cases := []struct {
		name    string
		prepare func(t *testing.T)
		req     *cairnv1.FsckRequest
		code    codes.Code
		check   func(t *testing.T, prog []*cairnv1.Progress, rep *cairnv1.FsckReport)
	}{
		{name: "clean", req: &cairnv1.FsckRequest{}, check: func(t *testing.T, prog []*cairnv1.Progress, rep *cairnv1.FsckReport) {
			if len(rep.GetProblems()) != 0 || rep.GetVolumes() != 1 || rep.GetInodes() != 3 || rep.GetChunks() != stored {
				t.Fatalf("report %v: want 1 volume, 3 inodes, %d chunks, no problem", rep, stored)
			}
			phasesDone(t, prog, "verify")
		}},
		{name: "metadata only", req: &cairnv1.FsckRequest{MetadataOnly: true}, check: func(t *testing.T, prog []*cairnv1.Progress, rep *cairnv1.FsckReport) {
			if len(prog) != 0 || rep.GetChunks() != 0 || rep.GetExtents() == 0 || len(rep.GetProblems()) != 0 {
				t.Fatalf("progress %v, report %v: want extents checked, no chunk read", prog, rep)
			}
		}},
		{name: "repair refused", req: &cairnv1.FsckRequest{Repair: true}, code: codes.FailedPrecondition},
		{name: "missing chunk", prepare: func(t *testing.T) { deleteChunk(t, d) }, req: &cairnv1.FsckRequest{},
			check: func(t *testing.T, _ []*cairnv1.Progress, rep *cairnv1.FsckReport) {
				p := rep.GetProblems()
				if len(p) != 1 || p[0].GetVolume() != "v" || p[0].GetRepaired() || !strings.Contains(p[0].GetWhat(), "missing") {
					t.Fatalf("problems %v: want the extent of the deleted chunk, not repaired", p)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.prepare != nil {
				tc.prepare(t)
			}
			prog, last, err := fsck(tc.req)(t)
			wantCode(t, err, tc.code)
			if err != nil {
				return
			}
			tc.check(t, prog, last.GetReport())
		})
	}
}

// TestFsckRepairMessage: the refusal names the daemon to stop.
func TestFsckRepairMessage(t *testing.T) {
	d := startDaemon(t)
	s, err := d.api.Maintenance.Fsck(ctx(t), &cairnv1.FsckRequest{Repair: true})
	_, _, err = readProgress(t, s, err)
	want := fmt.Sprintf("fsck --repair needs exclusive use of the data directory: stop the cairn daemon (pid %d) first", os.Getpid())
	if st, _ := status.FromError(err); st.Code() != codes.FailedPrecondition || st.Message() != want {
		t.Fatalf("got %v, want FailedPrecondition %q", err, want)
	}
}

// deleteChunk deletes the largest chunk from the daemon's disk, leaving
// the cache above it untouched.
func deleteChunk(t *testing.T, d *daemon) {
	t.Helper()
	c := context.Background()
	var big chunks.Info
	if err := d.d.Local.Walk(c, func(info chunks.Info) error {
		if info.Size > big.Size {
			big = info
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := d.d.Local.Delete(c, big.ID); err != nil {
		t.Fatal(err)
	}
}

// TestFsckOnline checks while a writer keeps creating and removing
// files: the daemon's I/O goes on and each check is clean.
func TestFsckOnline(t *testing.T) {
	d := startDaemon(t)
	snapVolume(t, d, "v", nil)
	v := maintOpen(t, d, "v")
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- keepWriting(v, stop) }()
	for i := range 5 {
		s, err := d.api.Maintenance.Fsck(ctx(t), &cairnv1.FsckRequest{})
		_, last, err := readProgress(t, s, err)
		if err != nil {
			t.Fatal(err)
		}
		if p := last.GetReport().GetProblems(); len(p) != 0 {
			t.Fatalf("check %d while writing: %v", i, p)
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// keepWriting writes a new file after another into v, removing every
// other one, until stop is closed; it fails if it wrote nothing.
func keepWriting(v *fs.Volume, stop chan struct{}) error {
	c := context.Background()
	for n := 0; ; n++ {
		select {
		case <-stop:
			if n == 0 {
				return errors.New("the writer wrote nothing while the checks ran")
			}
			return nil
		default:
		}
		if err := createFile(v, fmt.Sprintf("f%d", n), chunkstest.Random(64<<10, uint64(n))); err != nil {
			return err
		}
		if n%2 == 1 {
			if err := v.Unlink(c, nil, fs.RootIno, fmt.Sprintf("f%d", n-1)); err != nil {
				return err
			}
		}
	}
}
