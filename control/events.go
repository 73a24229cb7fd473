package control

import (
	"context"
	"log/slog"
	"slices"
	"time"
)

// EventLog is a slog.Handler that keeps the last records at INFO and
// above, for the Events service, and passes every record on, unchanged,
// to the handler it wraps. Handlers derived from it with WithAttrs and
// WithGroup share its history.
//
// The history does not depend on the wrapped handler's level: a daemon
// logging only warnings still keeps its INFO events.
type EventLog struct {
	next  slog.Handler
	ring  *eventRing
	attrs []eventAttr // of WithAttrs, flattened
	group string      // the WithGroup prefix of the record's attrs: "g." or ""
}

// Event is one record an EventLog kept.
type Event struct {
	// ID increases by one per event, from 1.
	ID      uint64
	Time    time.Time
	Level   slog.Level
	Message string
	// Attrs are the record's attributes, and those of WithAttrs, keyed
	// by their groups and key joined with dots ("group.key"). The map is
	// shared by every caller of Events: do not change it.
	Attrs map[string]string
}

// DefaultEventLogSize is the number of events an EventLog keeps unless
// told otherwise.
const DefaultEventLogSize = 1000

// NewEventLog returns a handler that passes records to next and keeps the
// last size of them at INFO and above (DefaultEventLogSize if size <= 0).
func NewEventLog(next slog.Handler, size int) *EventLog {
	if size <= 0 {
		size = DefaultEventLogSize
	}
	return &EventLog{next: next, ring: newEventRing(size)}
}

// Events returns the kept events after id (0: from the oldest kept) at
// level min or above, oldest first, at most limit of them (limit <= 0:
// all); and how many older events were discarded to bound the history.
func (l *EventLog) Events(after uint64, min slog.Level, limit int) (events []Event, dropped uint64) {
	return l.ring.after(after, min, limit)
}

// Enabled implements slog.Handler: INFO and above always, for the
// history; below, as the wrapped handler says.
func (l *EventLog) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelInfo || l.next.Enabled(ctx, level)
}

// Handle implements slog.Handler. It passes r on only if the wrapped
// handler is enabled for its level: Enabled may have let r through for
// the history alone, and handlers do not check their level again.
func (l *EventLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelInfo {
		l.ring.add(l.event(r))
	}
	if !l.next.Enabled(ctx, r.Level) {
		return nil
	}
	return l.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (l *EventLog) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return l
	}
	d := *l
	d.next = l.next.WithAttrs(as)
	// Clipped, so that siblings derived from l never share an array.
	d.attrs = flatten(slices.Clip(l.attrs), l.group, as)
	return &d
}

// WithGroup implements slog.Handler.
func (l *EventLog) WithGroup(name string) slog.Handler {
	if name == "" {
		return l
	}
	d := *l
	d.next = l.next.WithGroup(name)
	d.group = l.group + name + "."
	return &d
}

// event is the history's form of r.
func (l *EventLog) event(r slog.Record) Event {
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	attrs := make(map[string]string, len(l.attrs)+r.NumAttrs())
	for _, a := range l.attrs {
		attrs[a.key] = a.value
	}
	rec := make([]slog.Attr, 0, r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool {
		rec = append(rec, a)
		return true
	})
	for _, a := range flatten(nil, l.group, rec) {
		attrs[a.key] = a.value
	}
	return Event{Time: t, Level: r.Level, Message: r.Message, Attrs: attrs}
}

// eventAttr is an attribute flattened: its groups and key joined with
// dots, and its value printed.
type eventAttr struct{ key, value string }

// flatten appends as, under prefix, to dst, following slog's rules: empty
// attributes and empty groups are left out, a group without a key is
// inlined.
func flatten(dst []eventAttr, prefix string, as []slog.Attr) []eventAttr {
	for _, a := range as {
		a.Value = a.Value.Resolve()
		if a.Equal(slog.Attr{}) {
			continue
		}
		if a.Value.Kind() != slog.KindGroup {
			dst = append(dst, eventAttr{prefix + a.Key, a.Value.String()})
			continue
		}
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		dst = flatten(dst, p, a.Value.Group())
	}
	return dst
}
