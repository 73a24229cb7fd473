package control

import (
	"sync"
	"time"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// progressEvery is the shortest interval between two progress messages
// of one phase: a collection reports every chunk, a client wants a few
// updates a second.
const progressEvery = 100 * time.Millisecond

// progressStream sends a long operation's progress to a client, at most
// about ten messages a second, yet always the last state of each phase,
// so a client can show every phase finished.
type progressStream struct {
	send func(*cairnv1.Progress) error

	mu      sync.Mutex
	latest  progressState // the newest state reported
	pending bool          // latest has not been sent
	sentAt  time.Time
	err     error // the first failed send: the client is gone
}

// progressState is one update; the message is made only when sent, since
// most updates are not.
type progressState struct {
	phase       string
	done, total int64
}

func newProgressStream(send func(*cairnv1.Progress) error) *progressStream {
	return &progressStream{send: send}
}

// update reports the state of phase. It sends synchronously: the
// messages are tiny and few, so a send blocks only once the client has
// left the stream's window (64 KiB, minutes of progress) unread.
func (p *progressStream) update(phase string, done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	changed := p.sentAt.IsZero() || p.latest.phase != phase
	if changed && p.pending {
		p.emit() // the previous phase's final state
	}
	p.latest, p.pending = progressState{phase: phase, done: done, total: total}, true
	if changed || time.Since(p.sentAt) >= progressEvery {
		p.emit()
	}
}

// flush sends the last state if it was held back, and returns the first
// send error.
func (p *progressStream) flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending {
		p.emit()
	}
	return p.err
}

// emit sends the latest state unless a send already failed; p.mu is held.
func (p *progressStream) emit() {
	p.pending = false
	p.sentAt = time.Now()
	if p.err == nil {
		p.err = p.send(&cairnv1.Progress{Phase: p.latest.phase, Done: p.latest.done, Total: p.latest.total})
	}
}
