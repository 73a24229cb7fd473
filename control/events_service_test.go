package control_test

import (
	"log/slog"
	"testing"

	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control"
)

func TestListEventsRPC(t *testing.T) {
	events := control.NewEventLog(slog.DiscardHandler, 0)
	d := startDaemonWith(t, events)
	c := ctx(t)
	if _, err := d.api.Volumes.CreateVolume(c, &cairnv1.CreateVolumeRequest{Name: "web"}); err != nil {
		t.Fatal(err)
	}
	slog.New(events).Warn("disk nearly full", "free", 10)
	all, err := d.api.Events.ListEvents(c, &cairnv1.ListEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var created, warned *cairnv1.Event
	for _, e := range all.GetEvents() {
		switch e.GetMessage() {
		case "volume created":
			created = e
		case "disk nearly full":
			warned = e
		}
	}
	if created == nil || created.GetAttrs()["volume"] != "web" || created.GetLevel() != "info" || created.GetTime() == nil {
		t.Fatalf("no volume created event for web in %v", all.GetEvents())
	}
	if warned == nil || warned.GetLevel() != "warn" || warned.GetAttrs()["free"] != "10" || warned.GetId() <= created.GetId() {
		t.Fatalf("warning %v after %v", warned, created)
	}
	tests := []struct {
		name string
		req  *cairnv1.ListEventsRequest
		code codes.Code
		want func(*cairnv1.ListEventsResponse) bool
	}{
		{"after an id", &cairnv1.ListEventsRequest{AfterId: created.GetId()}, codes.OK, func(r *cairnv1.ListEventsResponse) bool {
			return len(r.GetEvents()) > 0 && r.GetEvents()[0].GetId() == created.GetId()+1
		}},
		{"after the last", &cairnv1.ListEventsRequest{AfterId: warned.GetId()}, codes.OK, func(r *cairnv1.ListEventsResponse) bool {
			return len(r.GetEvents()) == 0 && r.GetDropped() == 0
		}},
		{"limit: oldest first", &cairnv1.ListEventsRequest{Limit: 1}, codes.OK, func(r *cairnv1.ListEventsResponse) bool {
			return len(r.GetEvents()) == 1 && r.GetEvents()[0].GetId() == all.GetEvents()[0].GetId()
		}},
		{"warn and above", &cairnv1.ListEventsRequest{MinLevel: "warn"}, codes.OK, func(r *cairnv1.ListEventsResponse) bool {
			return len(r.GetEvents()) == 1 && r.GetEvents()[0].GetId() == warned.GetId()
		}},
		{"error: none", &cairnv1.ListEventsRequest{MinLevel: "ERROR"}, codes.OK, func(r *cairnv1.ListEventsResponse) bool {
			return len(r.GetEvents()) == 0
		}},
		{"bad level", &cairnv1.ListEventsRequest{MinLevel: "loud"}, codes.InvalidArgument, nil},
		{"negative limit", &cairnv1.ListEventsRequest{Limit: -1}, codes.InvalidArgument, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := d.api.Events.ListEvents(c, tt.req)
			wantCode(t, err, tt.code)
			if tt.want != nil && !tt.want(resp) {
				t.Fatalf("unexpected response %v", resp)
			}
		})
	}
}

// TestListEventsWithoutHistory checks that a server without an event log
// says so, rather than answering an empty history.
func TestListEventsWithoutHistory(t *testing.T) {
	d := startDaemon(t)
	_, err := d.api.Events.ListEvents(ctx(t), &cairnv1.ListEventsRequest{})
	wantCode(t, err, codes.FailedPrecondition)
}
