package nfsgw

import (
	"maps"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// clientTTL is how long a client that sent nothing stays listed: long
// enough to show who was using a volume a moment ago, short enough that
// the table stays small on a gateway that many clients pass through.
const clientTTL = 10 * time.Minute

// Client is a client of the gateway as its recent calls show it.
type Client struct {
	// Address is the client's IP address (its calls over every
	// connection count as one client, as the exports' networks do).
	Address string
	// Volume is the volume of the client's last call that named one
	// (MOUNT or a file handle); for a snapshot browsed through
	// /VOLUME/.snapshots it is VOLUME, the export the client mounted.
	Volume string
	// LastSeen is when that call came.
	LastSeen time.Time
}

// Clients lists the clients seen in the last ten minutes, by address.
func (s *Server) Clients() []Client { return s.clients.list(time.Now()) }

// clientTable remembers each client's last volume and call. Every call
// with a file handle updates it, so the common case (a known client on
// the same volume) takes only a read lock and an atomic store.
type clientTable struct {
	mu     sync.RWMutex
	byAddr map[netip.Addr]*clientEntry
	pruned time.Time // guarded by mu (write)
}

// clientEntry is one client; its fields change under the read lock.
type clientEntry struct {
	volume atomic.Pointer[string]
	last   atomic.Int64 // unix nanoseconds
}

// mounted names the volume a client of e mounted: e's own, or for a
// snapshot view the volume whose .snapshots it was reached through.
func (e *export) mounted() string {
	if e.parent != nil {
		return e.parent.Volume
	}
	return e.Volume
}

func newClientTable() *clientTable {
	return &clientTable{byAddr: map[netip.Addr]*clientEntry{}}
}

// seen records a call of client on volume.
func (t *clientTable) seen(client netip.Addr, volume string) {
	now := time.Now()
	t.mu.RLock()
	e := t.byAddr[client]
	t.mu.RUnlock()
	if e == nil {
		e = t.add(client, now)
	}
	if v := e.volume.Load(); v == nil || *v != volume {
		name := volume // allocated only when the volume changes
		e.volume.Store(&name)
	}
	e.last.Store(now.UnixNano())
}

// add returns the entry of a new client, first dropping the stale ones
// (at most once a minute, so a flood of new clients stays cheap).
func (t *clientTable) add(client netip.Addr, now time.Time) *clientEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.byAddr[client]; e != nil {
		return e
	}
	if now.Sub(t.pruned) > time.Minute {
		t.prune(now)
	}
	e := &clientEntry{}
	e.last.Store(now.UnixNano())
	t.byAddr[client] = e
	return e
}

// prune drops the clients not seen for clientTTL; t.mu is held.
func (t *clientTable) prune(now time.Time) {
	t.pruned = now
	for a, e := range t.byAddr {
		if now.Sub(time.Unix(0, e.last.Load())) > clientTTL {
			delete(t.byAddr, a)
		}
	}
}

// list returns the clients seen within clientTTL of now, by address.
func (t *clientTable) list(now time.Time) []Client {
	t.mu.Lock()
	t.prune(now)
	addrs := slices.SortedFunc(maps.Keys(t.byAddr), netip.Addr.Compare)
	out := make([]Client, 0, len(addrs))
	for _, a := range addrs {
		e := t.byAddr[a]
		c := Client{Address: a.String(), LastSeen: time.Unix(0, e.last.Load())}
		if v := e.volume.Load(); v != nil {
			c.Volume = *v
		}
		out = append(out, c)
	}
	t.mu.Unlock()
	return out
}
