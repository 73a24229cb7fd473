package meta

import "sync"

// CallGate lets an engine's Close refuse new calls and wait for the ones
// in progress. The zero value is open.
type CallGate struct {
	mu     sync.RWMutex // guards closed and Add on active
	closed bool
	active sync.WaitGroup
}

// Enter registers a call; it reports false once the gate is shut. After
// a true result the caller must call Leave.
func (g *CallGate) Enter() bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return false
	}
	g.active.Add(1)
	return true
}

// Leave ends a call registered by Enter.
func (g *CallGate) Leave() { g.active.Done() }

// Shut refuses new calls and reports whether it was already shut.
func (g *CallGate) Shut() (already bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	already, g.closed = g.closed, true
	return already
}

// Wait waits for the calls in progress.
func (g *CallGate) Wait() { g.active.Wait() }
