package control

import (
	"context"
	"log/slog"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// eventsService implements cairnv1.EventsServer over Config.Events.
type eventsService struct{ s *Server }

var _ cairnv1.EventsServer = eventsService{}

// ListEvents returns the kept events after after_id, oldest first.
func (e eventsService) ListEvents(_ context.Context, r *cairnv1.ListEventsRequest) (*cairnv1.ListEventsResponse, error) {
	log := e.s.cfg.Events
	if log == nil {
		// Not an empty list: a client would take it for a quiet daemon.
		if e.s.cfg.Exclusive {
			return nil, errorf(codes.FailedPrecondition,
				"no event history: it lives in the daemon (cairn server), and no daemon answered")
		}
		return nil, errorf(codes.FailedPrecondition, "this server keeps no event history")
	}
	min, err := parseEventLevel(r.GetMinLevel())
	if err != nil {
		return nil, err
	}
	if r.GetLimit() < 0 {
		return nil, errorf(codes.InvalidArgument, "limit %d: want 0 (all) or more", r.GetLimit())
	}
	events, dropped := log.Events(r.GetAfterId(), min, int(r.GetLimit()))
	out := &cairnv1.ListEventsResponse{Events: make([]*cairnv1.Event, 0, len(events)), Dropped: dropped}
	for _, ev := range events {
		out.Events = append(out.Events, &cairnv1.Event{Id: ev.ID, Time: timestamppb.New(ev.Time),
			Level: eventLevelName(ev.Level), Message: ev.Message, Attrs: ev.Attrs})
	}
	return out, nil
}

// parseEventLevel reads min_level: info (also empty), warn or error.
func parseEventLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, errorf(codes.InvalidArgument, "min_level %q: want info, warn or error", s)
}

// eventLevelName is the API name of level; levels between slog's named
// ones count as the one below.
func eventLevelName(level slog.Level) string {
	switch {
	case level >= slog.LevelError:
		return "error"
	case level >= slog.LevelWarn:
		return "warn"
	}
	return "info"
}
