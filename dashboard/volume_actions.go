package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// volumePath is the page of volume name.
func volumePath(name string) string { return "/ui/volumes/" + pathEscape(name) }

// parseQuota reads a quota field: empty or 0 for none, else a size such
// as 10GiB.
func parseQuota(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return 0, fmt.Errorf("quota %q: want a size such as 10GiB", s)
	}
	return n, nil
}

// createVolume makes a volume from the create form.
func (s *Server) createVolume(w http.ResponseWriter, r *http.Request, sess *session) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	quota, err := parseQuota(r.PostFormValue("quota"))
	if err != nil {
		s.done(w, r, sess, "/ui/volumes", err, "")
		return
	}
	_, err = s.api.Volumes.CreateVolume(r.Context(), &cairnv1.CreateVolumeRequest{Name: name, Quota: quota,
		Compress: r.PostFormValue("compress") == "on"})
	s.finish(w, r, sess, err, "/ui/volumes", volumePath(name), "Volume "+name+" created.")
}

// setQuota changes a volume's quota.
func (s *Server) setQuota(w http.ResponseWriter, r *http.Request, sess *session) {
	name := r.PathValue("name")
	quota, err := parseQuota(r.PostFormValue("quota"))
	if err == nil {
		_, err = s.api.Volumes.SetQuota(r.Context(), &cairnv1.SetQuotaRequest{Name: name, Quota: quota})
	}
	msg := "Quota of " + name + " removed."
	if quota > 0 {
		msg = "Quota of " + name + " set to " + humanize.IBytes(quota) + "."
	}
	s.done(w, r, sess, volumePath(name), err, msg)
}

// snapshotNow cuts a snapshot of the volume, named by the form or after
// the time, with the schedule's hooks if asked.
func (s *Server) snapshotNow(w http.ResponseWriter, r *http.Request, sess *session) {
	vol := r.PathValue("name")
	snap := strings.TrimSpace(r.PostFormValue("snapshot"))
	if snap == "" {
		snap = "ui-" + time.Now().UTC().Format("20060102-150405")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Minute) // hooks may take a while
	defer cancel()
	resp, err := s.api.Snapshots.CreateSnapshot(ctx, &cairnv1.CreateSnapshotRequest{Volume: vol, Name: snap,
		ScheduleHooks: r.PostFormValue("hooks") == "on", Labels: map[string]string{"cairn.created-by": "dashboard"}})
	msg := ""
	if err == nil {
		msg = "Snapshot " + vol + "@" + snap + " taken."
		for _, h := range resp.GetSnapshots()[0].GetHooks() {
			msg += fmt.Sprintf(" %s-hook %q exited %d.", h.GetPhase(), h.GetCommand(), h.GetExitCode())
		}
	}
	s.done(w, r, sess, volumePath(vol), err, msg)
}

// cloneVolume makes a new volume of the volume's current state.
func (s *Server) cloneVolume(w http.ResponseWriter, r *http.Request, sess *session) {
	src := r.PathValue("name")
	name := strings.TrimSpace(r.PostFormValue("clone"))
	_, err := s.api.Volumes.CloneVolume(r.Context(), &cairnv1.CloneVolumeRequest{Source: src, Name: name})
	s.finish(w, r, sess, err, volumePath(src), volumePath(name), "Volume "+name+" cloned from "+src+".")
}

// deleteVolume deletes the volume once its name was typed to confirm.
func (s *Server) deleteVolume(w http.ResponseWriter, r *http.Request, sess *session) {
	name := r.PathValue("name")
	if r.PostFormValue("confirm") != name {
		s.done(w, r, sess, volumePath(name), fmt.Errorf("volume %s not deleted: type its name to confirm", name), "")
		return
	}
	_, err := s.api.Volumes.DeleteVolume(r.Context(), &cairnv1.DeleteVolumeRequest{Name: name})
	s.finish(w, r, sess, err, volumePath(name), "/ui/volumes", "Volume "+name+" deleted; its chunks are reclaimed by the next gc.")
}

// restoreData is the confirmation page of a restore.
type restoreData struct {
	volumeRow
	Snapshot *cairnv1.Snapshot
}

// restorePage asks to confirm a restore, naming who uses the volume (the
// daemon refuses a restore while anything does).
func (s *Server) restorePage(w http.ResponseWriter, r *http.Request, sess *session) {
	name := r.PathValue("name")
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	row, err := s.volumeWithUsers(ctx, name)
	if err != nil {
		s.failPage(w, r, sess, "Volume "+name, err)
		return
	}
	snap, err := s.api.Snapshots.GetSnapshot(ctx, &cairnv1.GetSnapshotRequest{Ref: name + "@" + r.URL.Query().Get("snapshot")})
	if err != nil {
		s.failPage(w, r, sess, "Snapshot", err)
		return
	}
	s.render(w, r, sess, "restore", "Restore "+name, restoreData{volumeRow: row, Snapshot: snap.GetSnapshot()})
}

// restore rolls the volume back, as a job (the page shows it finish).
func (s *Server) restore(w http.ResponseWriter, r *http.Request, sess *session) {
	name, snap := r.PathValue("name"), r.PostFormValue("snapshot")
	if r.PostFormValue("confirm") != name {
		s.done(w, r, sess, "/ui/volumes/"+pathEscape(name)+"/restore?snapshot="+queryEscape(snap),
			fmt.Errorf("not restored: type the volume's name to confirm"), "")
		return
	}
	id := s.jobs.start("restore", "Restore "+name+" to @"+snap, func(ctx context.Context, progress func(string, int64, int64)) ([]string, string, error) {
		progress("restoring", 0, 1)
		v, err := s.api.Snapshots.RestoreVolume(ctx, &cairnv1.RestoreVolumeRequest{Volume: name, Snapshot: snap})
		if err != nil {
			return nil, "", err
		}
		progress("restored", 1, 1)
		return []string{fmt.Sprintf("Volume %s is back at snapshot %s: %s in %s files.", name, snap,
			humanize.IBytes(v.GetUsedBytes()), humanize.Comma(int64(v.GetFiles())))}, volumePath(name), nil
	})
	http.Redirect(w, r, fmt.Sprintf("/ui/jobs/%d", id), http.StatusSeeOther)
}
