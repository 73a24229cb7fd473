package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// schedulesData is the schedules page.
type schedulesData struct {
	Schedules []*cairnv1.Schedule
	Volumes   []string
	Edit      *cairnv1.Schedule // prefilled form (?volume=)
}

// schedulesPage lists the snapshot schedules with a form to set one.
func (s *Server) schedulesPage(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	sc, err := s.api.Snapshots.ListSchedules(ctx, &cairnv1.ListSchedulesRequest{})
	if err != nil {
		s.failPage(w, r, sess, "Schedules", err)
		return
	}
	vols, err := s.api.Volumes.ListVolumes(ctx, &cairnv1.ListVolumesRequest{})
	if err != nil {
		s.failPage(w, r, sess, "Volumes", err)
		return
	}
	d := schedulesData{Schedules: sc.GetSchedules(), Edit: &cairnv1.Schedule{Volume: r.URL.Query().Get("volume"),
		Every: durationpb.New(time.Hour), Keep: 24}}
	for _, v := range vols.GetVolumes() {
		d.Volumes = append(d.Volumes, v.GetName())
	}
	for _, x := range d.Schedules {
		if x.GetVolume() == d.Edit.GetVolume() {
			d.Edit = x
		}
	}
	s.render(w, r, sess, "schedules", "Schedules", d)
}

// setSchedule creates or replaces a volume's schedule.
func (s *Server) setSchedule(w http.ResponseWriter, r *http.Request, sess *session) {
	vol := r.PostFormValue("volume")
	every, err := time.ParseDuration(strings.TrimSpace(r.PostFormValue("every")))
	if err != nil {
		s.done(w, r, sess, "/ui/schedules?volume="+queryEscape(vol), fmt.Errorf("every %q: want a duration such as 1h or 15m", r.PostFormValue("every")), "")
		return
	}
	keep, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("keep")))
	if err != nil {
		s.done(w, r, sess, "/ui/schedules?volume="+queryEscape(vol), fmt.Errorf("keep %q: want a number of snapshots", r.PostFormValue("keep")), "")
		return
	}
	sc := &cairnv1.Schedule{Volume: vol, Every: durationpb.New(every), Keep: int32(keep)}
	if err := s.keepHooks(r.Context(), sc); err != nil {
		s.done(w, r, sess, "/ui/schedules", err, "")
		return
	}
	_, err = s.api.Snapshots.SetSchedule(r.Context(), &cairnv1.SetScheduleRequest{Schedule: sc})
	s.done(w, r, sess, "/ui/schedules", err, fmt.Sprintf("Volume %s: a snapshot every %s, keeping %d.", vol, every, keep))
}

// removeSchedule removes a volume's schedule; its snapshots stay.
func (s *Server) removeSchedule(w http.ResponseWriter, r *http.Request, sess *session) {
	vol := r.PathValue("volume")
	_, err := s.api.Snapshots.RemoveSchedule(r.Context(), &cairnv1.RemoveScheduleRequest{Volume: vol})
	s.done(w, r, sess, "/ui/schedules", err, "Schedule of "+vol+" removed; its snapshots stay.")
}

// keepHooks copies the hooks of the volume's current schedule into sc.
// Hooks are shell commands the daemon runs as its user: they are set
// with the CLI only, never typed into a browser.
func (s *Server) keepHooks(ctx context.Context, sc *cairnv1.Schedule) error {
	all, err := s.api.Snapshots.ListSchedules(ctx, &cairnv1.ListSchedulesRequest{})
	if err != nil {
		return err
	}
	for _, old := range all.GetSchedules() {
		if old.GetVolume() == sc.GetVolume() {
			sc.PreHook, sc.PostHook = old.GetPreHook(), old.GetPostHook()
		}
	}
	return nil
}
