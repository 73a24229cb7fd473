package control_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/control"
)

// ids are the IDs of events.
func ids(events []control.Event) []uint64 {
	var out []uint64
	for _, e := range events {
		out = append(out, e.ID)
	}
	return out
}

func TestEventLogHistory(t *testing.T) {
	log := control.NewEventLog(slog.DiscardHandler, 4)
	l := slog.New(log)
	// IDs 1-6; 1 and 2 are pushed out by the ring of 4; debug is not kept.
	l.Info("one")
	l.Error("two")
	l.Debug("not kept")
	l.Warn("three")
	l.Info("four")
	l.Error("five")
	l.Log(context.Background(), slog.LevelWarn+1, "six")
	tests := []struct {
		name    string
		after   uint64
		min     slog.Level
		limit   int
		want    []uint64
		message string // of the first event, if any
	}{
		{"all kept", 0, slog.LevelInfo, 0, []uint64{3, 4, 5, 6}, "three"},
		{"after a dropped id", 1, slog.LevelInfo, 0, []uint64{3, 4, 5, 6}, "three"},
		{"after a kept id", 4, slog.LevelInfo, 0, []uint64{5, 6}, "five"},
		{"after the last", 6, slog.LevelInfo, 0, nil, ""},
		{"after beyond the last", 1000, slog.LevelInfo, 0, nil, ""},
		{"limit: the oldest first", 0, slog.LevelInfo, 2, []uint64{3, 4}, "three"},
		{"limit after an id", 3, slog.LevelInfo, 1, []uint64{4}, "four"},
		{"warn and above", 0, slog.LevelWarn, 0, []uint64{3, 5, 6}, "three"},
		{"error only", 0, slog.LevelError, 0, []uint64{5}, "five"},
		{"limit counts matches", 0, slog.LevelWarn, 2, []uint64{3, 5}, "three"},
		{"debug asked: still only what was kept", 0, slog.LevelDebug, 0, []uint64{3, 4, 5, 6}, "three"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dropped := log.Events(tt.after, tt.min, tt.limit)
			if fmt.Sprint(ids(got)) != fmt.Sprint(tt.want) {
				t.Fatalf("ids %v, want %v", ids(got), tt.want)
			}
			if dropped != 2 {
				t.Errorf("dropped %d, want 2", dropped)
			}
			if len(got) > 0 && got[0].Message != tt.message {
				t.Errorf("first message %q, want %q", got[0].Message, tt.message)
			}
		})
	}
}

func TestEventLogAttrs(t *testing.T) {
	log := control.NewEventLog(slog.DiscardHandler, 0)
	root := slog.New(log)
	tests := []struct {
		name string
		log  func()
		want map[string]string
	}{
		{"record attrs", func() { root.Info("m", "volume", "web", "n", 3, "took", 1500*time.Millisecond) },
			map[string]string{"volume": "web", "n": "3", "took": "1.5s"}},
		{"WithAttrs", func() { root.With("component", "control").Info("m", "k", "v") },
			map[string]string{"component": "control", "k": "v"}},
		{"WithGroup prefixes later attrs only", func() {
			root.With("a", 1).WithGroup("g").With("b", 2).WithGroup("h").Info("m", "c", 3)
		}, map[string]string{"a": "1", "g.b": "2", "g.h.c": "3"}},
		{"group attrs nest", func() { root.WithGroup("g").Info("m", slog.Group("x", "y", true, slog.Group("z", "w", "deep"))) },
			map[string]string{"g.x.y": "true", "g.x.z.w": "deep"}},
		{"empty group and key-less group", func() {
			root.Info("m", slog.Group("empty"), slog.Group("", "inlined", 1), slog.Attr{})
		}, map[string]string{"inlined": "1"}},
		{"an unused group leaves nothing", func() { root.WithGroup("g").Info("m") }, map[string]string{}},
		{"errors and valuers are printed", func() { root.Info("m", "err", errors.New("boom"), "v", valuer{}) },
			map[string]string{"err": "boom", "v": "resolved"}},
		{"a later key wins", func() { root.With("k", "old").Info("m", "k", "new") }, map[string]string{"k": "new"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.log()
			got, _ := log.Events(0, slog.LevelInfo, 0)
			last := got[len(got)-1]
			if !maps.Equal(last.Attrs, tt.want) {
				t.Fatalf("attrs %v, want %v", last.Attrs, tt.want)
			}
		})
	}
	// Siblings derived from one handler must not share their attrs.
	base := root.With("base", 0)
	a, b := base.With("a", 1), base.With("b", 2)
	a.Info("a")
	b.Info("b")
	got, _ := log.Events(0, slog.LevelInfo, 0)
	if x, y := got[len(got)-2].Attrs, got[len(got)-1].Attrs; len(x) != 2 || x["a"] != "1" || len(y) != 2 || y["b"] != "2" {
		t.Fatalf("siblings: %v and %v", x, y)
	}
}

// valuer is a slog.LogValuer, resolved before it is printed.
type valuer struct{}

func (valuer) LogValue() slog.Value { return slog.StringValue("resolved") }

// TestEventLogForwards checks that the wrapped handler gets every record
// it is enabled for, groups and attrs as without the EventLog, and only
// those: the history keeps INFO even when the output shows only WARN.
func TestEventLogForwards(t *testing.T) {
	var buf bytes.Buffer
	text := func(w *bytes.Buffer) slog.Handler {
		return slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn,
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}})
	}
	log := control.NewEventLog(text(&buf), 0)
	var plain bytes.Buffer
	for _, l := range []*slog.Logger{slog.New(log), slog.New(text(&plain))} {
		l = l.With("a", 1).WithGroup("g")
		l.Debug("debug")
		l.Info("info", "k", "v")
		l.Warn("warn", "k", "v")
	}
	if buf.String() != plain.String() || !strings.Contains(buf.String(), "g.k=v") {
		t.Fatalf("forwarded:\n%s\nwant:\n%s", buf.String(), plain.String())
	}
	if !log.Enabled(context.Background(), slog.LevelInfo) || log.Enabled(context.Background(), slog.LevelDebug) {
		t.Fatal("Enabled: want INFO (for the history) and not DEBUG")
	}
	got, _ := log.Events(0, slog.LevelInfo, 0)
	if len(got) != 2 || got[0].Message != "info" || got[1].Level != slog.LevelWarn {
		t.Fatalf("kept %+v", got)
	}
}

// FuzzEventRing checks the history against a model that keeps every
// event: a ring of size n holds the last n, and Events filters them.
func FuzzEventRing(f *testing.F) {
	f.Add(uint8(3), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, uint8(2), uint8(1), uint8(2))
	f.Add(uint8(1), []byte{8, 8, 4}, uint8(0), uint8(0), uint8(0))
	f.Add(uint8(10), []byte{}, uint8(5), uint8(3), uint8(1))
	levels := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}
	f.Fuzz(func(t *testing.T, size uint8, ops []byte, after, limit, min uint8) {
		n := int(size%16) + 1
		log := control.NewEventLog(slog.DiscardHandler, n)
		l := slog.New(log)
		var all []control.Event // the model: every kept event, by ID-1
		for i, op := range ops {
			level := levels[int(op)%len(levels)]
			l.Log(context.Background(), level, fmt.Sprint(i))
			if level >= slog.LevelInfo {
				all = append(all, control.Event{ID: uint64(len(all) + 1), Level: level, Message: fmt.Sprint(i)})
			}
		}
		minLevel := levels[int(min)%len(levels)]
		got, dropped := log.Events(uint64(after), minLevel, int(limit))
		first := max(0, len(all)-n) // index of the oldest kept
		if dropped != uint64(first) {
			t.Fatalf("dropped %d, want %d", dropped, first)
		}
		var want []control.Event
		for _, e := range all[first:] {
			if e.ID > uint64(after) && e.Level >= minLevel && (limit == 0 || len(want) < int(limit)) {
				want = append(want, e)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("got %v, want %v", ids(got), ids(want))
		}
		for i := range want {
			if got[i].ID != want[i].ID || got[i].Message != want[i].Message || got[i].Level != want[i].Level {
				t.Fatalf("event %d: got %+v, want %+v", i, got[i], want[i])
			}
		}
	})
}
