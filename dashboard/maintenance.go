package dashboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/dustin/go-humanize"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// maintenancePage offers gc and fsck and lists the jobs.
func (s *Server) maintenancePage(w http.ResponseWriter, r *http.Request, sess *session) {
	s.render(w, r, sess, "maintenance", "Maintenance", s.jobs.list())
}

// startMaintenance starts gc or fsck as a job and shows it.
func (s *Server) startMaintenance(w http.ResponseWriter, r *http.Request, sess *session) {
	var id int
	switch op := r.PathValue("op"); op {
	case "gc":
		dry := r.PostFormValue("dry_run") == "on"
		id = s.jobs.start("gc", "Garbage collection", func(ctx context.Context, p func(string, int64, int64)) ([]string, string, error) {
			return s.runGC(ctx, dry, p)
		})
	case "fsck":
		metaOnly := r.PostFormValue("metadata_only") == "on"
		id = s.jobs.start("fsck", "Filesystem check", func(ctx context.Context, p func(string, int64, int64)) ([]string, string, error) {
			return s.runFsck(ctx, metaOnly, p)
		})
	default:
		s.notFound(w, r, sess)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/ui/jobs/%d", id), http.StatusSeeOther)
}

// progressOf is what every streamed maintenance response carries.
type progressOf interface{ GetProgress() *cairnv1.Progress }

// follow receives a stream's messages, reporting their progress, and
// returns the last one.
func follow[M progressOf](recv func() (M, error), p func(string, int64, int64)) (M, error) {
	var last M
	for {
		m, err := recv()
		if errors.Is(err, io.EOF) {
			return last, nil
		}
		if err != nil {
			return last, err
		}
		if pr := m.GetProgress(); pr != nil {
			p(pr.GetPhase(), pr.GetDone(), pr.GetTotal())
		}
		last = m
	}
}

// runGC collects garbage, reporting each phase.
func (s *Server) runGC(ctx context.Context, dry bool, p func(string, int64, int64)) ([]string, string, error) {
	st, err := s.api.Maintenance.GC(ctx, &cairnv1.GCRequest{DryRun: dry})
	if err != nil {
		return nil, "", err
	}
	last, err := follow(st.Recv, p)
	if err != nil {
		return nil, "", err
	}
	rep := last.GetReport()
	verb := "Swept"
	if rep.GetDryRun() {
		verb = "Would sweep"
	}
	return []string{
		fmt.Sprintf("Marked %d chunks live in %d snapshots and the volumes; scanned %d.", rep.GetMarked(), rep.GetSnapshots(), rep.GetScanned()),
		fmt.Sprintf("%s %d chunks (%s, %s stored); kept %d too young and %d pinned.", verb, rep.GetSwept(),
			humanize.IBytes(uint64(rep.GetSweptBytes())), humanize.IBytes(uint64(rep.GetSweptStored())), rep.GetYoung(), rep.GetPinned()),
	}, "", nil
}

// runFsck checks the filesystems, reporting each phase.
func (s *Server) runFsck(ctx context.Context, metaOnly bool, p func(string, int64, int64)) ([]string, string, error) {
	st, err := s.api.Maintenance.Fsck(ctx, &cairnv1.FsckRequest{MetadataOnly: metaOnly})
	if err != nil {
		return nil, "", err
	}
	last, err := follow(st.Recv, p)
	if err != nil {
		return nil, "", err
	}
	rep := last.GetReport()
	out := []string{fmt.Sprintf("Checked %d volumes, %d inodes, %d extents, %d chunks: %d problems.",
		rep.GetVolumes(), rep.GetInodes(), rep.GetExtents(), rep.GetChunks(), len(rep.GetProblems()))}
	for _, pr := range rep.GetProblems() {
		out = append(out, fmt.Sprintf("%s inode %d: %s", pr.GetVolume(), pr.GetIno(), pr.GetWhat()))
	}
	if len(rep.GetProblems()) > 0 {
		out = append(out, "Repair offline with `cairn fsck --repair` (it needs the daemon stopped).")
	}
	return out, "", nil
}
