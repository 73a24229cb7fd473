package dashboard

import (
	"context"
	"net/http"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// shownEvents is how many recent events the overview lists.
const shownEvents = 25

// eventsData is the recent events part of the overview.
type eventsData struct {
	Events []*cairnv1.Event // newest first
	Err    string
}

// recentEvents returns the daemon's last events, newest first; an error
// is shown in their place rather than failing the page.
func (s *Server) recentEvents(ctx context.Context) eventsData {
	resp, err := s.api.Events.ListEvents(ctx, &cairnv1.ListEventsRequest{})
	if err != nil {
		return eventsData{Err: apiMessage(err)}
	}
	ev := resp.GetEvents()
	if len(ev) > shownEvents {
		ev = ev[len(ev)-shownEvents:]
	}
	out := make([]*cairnv1.Event, 0, len(ev))
	for i := len(ev) - 1; i >= 0; i-- {
		out = append(out, ev[i])
	}
	return eventsData{Events: out}
}

// eventsFragment is the overview's events list, refreshed live.
func (s *Server) eventsFragment(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	s.fragment(w, r, sess, "overview", "events", overviewData{Events: s.recentEvents(ctx)})
}
