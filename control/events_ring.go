package control

import (
	"log/slog"
	"sync"
)

// eventRing is the bounded history of an EventLog: the newest events, in
// a circular buffer indexed by ID.
type eventRing struct {
	mu     sync.Mutex
	events []Event // the event of ID id is at (id-1) % len(events)
	last   uint64  // ID of the newest event; 0 before the first
}

func newEventRing(size int) *eventRing {
	return &eventRing{events: make([]Event, size)}
}

// add numbers e and keeps it, overwriting the oldest event when full.
func (r *eventRing) add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last++
	e.ID = r.last
	r.events[(e.ID-1)%uint64(len(r.events))] = e
}

// after is EventLog.Events.
func (r *eventRing) after(id uint64, min slog.Level, limit int) ([]Event, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	size := uint64(len(r.events))
	first := uint64(1)
	if r.last > size {
		first = r.last - size + 1
	}
	var out []Event
	if id >= r.last {
		return out, first - 1
	}
	for i := max(id+1, first); i <= r.last && (limit <= 0 || len(out) < limit); i++ {
		if e := r.events[(i-1)%size]; e.Level >= min {
			out = append(out, e)
		}
	}
	return out, first - 1
}
