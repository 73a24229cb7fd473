package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/serf/serf"

	"github.com/cairn-storage/cairn/cluster/peers"
)

// A snapshot's cut must hold every write acknowledged before it, also
// those still buffered in other processes of the cluster (FUSE mounts and
// NFS gateways of other nodes). The node cutting asks every other alive
// member, with a serf query (authenticated and encrypted by the gossip
// key), to flush and hold its writes to the volumes; it cuts once all
// have confirmed, then tells them to thaw. A member that never hears the
// thaw (its asker died) thaws by itself after freezeHold.

const (
	queryFreeze = "cairn-freeze"
	queryThaw   = "cairn-thaw"
	// freezeTimeout bounds how long a cut waits for every member's flush.
	freezeTimeout = 20 * time.Second
	// freezeHold bounds how long a member holds its writes for an asker.
	freezeHold = freezeTimeout + 10*time.Second
	// thawTimeout bounds the wait for thaw confirmations.
	thawTimeout = 5 * time.Second
)

// Freezer flushes this process's buffered writes to the volumes ids and
// holds their new writes until thaw is called (fs.FS.FreezeVolumes).
type Freezer func(ctx context.Context, ids []uint64) (thaw func(), err error)

// freezeMsg is the payload of both queries.
type freezeMsg struct {
	ID   string   `json:"id"`
	Vols []uint64 `json:"vols,omitempty"`
}

// freezer is a node's side of the protocol.
type freezer struct {
	mu     sync.Mutex
	fn     Freezer
	frozen map[string]func() // by freeze ID: thaw
}

// SetFreezer sets what the node runs when another member cuts a
// snapshot. Until it is set, the node has no writes to flush and
// confirms at once.
func (n *Node) SetFreezer(fn Freezer) {
	n.freeze.mu.Lock()
	defer n.freeze.mu.Unlock()
	n.freeze.fn = fn
}

// FreezeVolumes asks every other alive member to flush and hold its
// writes to the volumes ids, and returns once all have; thaw lets them
// go on. A member that refuses or does not answer in time fails the
// freeze (the others are thawed): a cut that could miss acknowledged
// writes is refused rather than taken.
func (n *Node) FreezeVolumes(ctx context.Context, ids []uint64) (thaw func(), err error) {
	var want []string
	for _, p := range n.view.Load().peers {
		if p.Status == peers.StatusAlive && p.Name != n.cfg.Name {
			want = append(want, p.Name)
		}
	}
	if len(want) == 0 {
		return func() {}, nil
	}
	idb := make([]byte, 12)
	rand.Read(idb)
	msg := freezeMsg{ID: hex.EncodeToString(idb), Vols: ids}
	thaw = func() { n.thaw(msg.ID, want) }
	start := time.Now()
	got, err := n.ask(ctx, queryFreeze, msg, want, freezeTimeout)
	if err == nil {
		err = expectAll(got, want)
	}
	if err != nil {
		thaw()
		return nil, fmt.Errorf("cluster freeze: %w", err)
	}
	n.metrics.freezeSeconds.Observe(time.Since(start).Seconds())
	n.log.Debug("cluster: members frozen", "members", len(want), "took", time.Since(start))
	return thaw, nil
}

// thaw tells the members to release freeze id; one that does not hear it
// thaws by itself after freezeHold.
func (n *Node) thaw(id string, members []string) {
	got, err := n.ask(context.Background(), queryThaw, freezeMsg{ID: id}, members, thawTimeout)
	if err == nil {
		err = expectAll(got, members)
	}
	if err != nil {
		n.log.Warn("cluster: thaw not confirmed; members thaw by themselves", "after", freezeHold, "err", err)
	}
}

// ask sends a query to members and collects their answers until all
// have answered, the timeout passes or ctx ends.
func (n *Node) ask(ctx context.Context, name string, msg freezeMsg, members []string, timeout time.Duration) (map[string]string, error) {
	payload, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = max(time.Until(d), time.Millisecond)
	}
	resp, err := n.serf.Query(name, payload, &serf.QueryParam{FilterNodes: members, Timeout: timeout})
	if err != nil {
		return nil, fmt.Errorf("%s query: %w", name, err)
	}
	defer resp.Close()
	got := make(map[string]string, len(members))
	for len(got) < len(members) {
		select {
		case r, ok := <-resp.ResponseCh():
			if !ok {
				return got, nil
			}
			got[r.From] = string(r.Payload)
		case <-ctx.Done():
			return got, ctx.Err()
		}
	}
	return got, nil
}

// expectAll checks that every member answered "ok".
func expectAll(got map[string]string, members []string) error {
	var errs []error
	for _, m := range members {
		switch a, ok := got[m]; {
		case !ok:
			errs = append(errs, fmt.Errorf("member %s did not answer", m))
		case a != "ok":
			errs = append(errs, fmt.Errorf("member %s: %s", m, strings.TrimPrefix(a, "error: ")))
		}
	}
	return errors.Join(errs...)
}

// handleQuery answers another member's freeze or thaw.
func (n *Node) handleQuery(q *serf.Query) {
	var msg freezeMsg
	if err := json.Unmarshal(q.Payload, &msg); err != nil || msg.ID == "" {
		n.respond(q, fmt.Sprintf("error: bad %s payload", q.Name))
		return
	}
	switch q.Name {
	case queryFreeze:
		n.respond(q, n.freezeLocal(q, msg))
	case queryThaw:
		n.thawLocal(msg.ID)
		n.respond(q, "ok")
	}
}

// thawLocal releases freeze id if it is still held.
func (n *Node) thawLocal(id string) (held bool) {
	n.freeze.mu.Lock()
	thaw := n.freeze.frozen[id]
	delete(n.freeze.frozen, id)
	n.freeze.mu.Unlock()
	if thaw != nil {
		thaw()
	}
	return thaw != nil
}

// freezeLocal runs the freezer for msg and keeps the thaw until the
// asker's thaw, or freezeHold.
func (n *Node) freezeLocal(q *serf.Query, msg freezeMsg) string {
	n.freeze.mu.Lock()
	fn := n.freeze.fn
	n.freeze.mu.Unlock()
	if fn == nil {
		return "ok"
	}
	ctx, cancel := context.WithDeadline(context.Background(), q.Deadline())
	defer cancel()
	thaw, err := fn(ctx, slices.Clone(msg.Vols))
	if err != nil {
		return "error: " + err.Error()
	}
	var once sync.Once
	release := func() { once.Do(thaw) }
	n.freeze.mu.Lock()
	if n.freeze.frozen == nil {
		n.freeze.frozen = make(map[string]func())
	}
	n.freeze.frozen[msg.ID] = release
	n.freeze.mu.Unlock()
	time.AfterFunc(freezeHold, func() {
		if n.thawLocal(msg.ID) {
			n.log.Warn("cluster: no thaw from the snapshot's node; thawing", "freeze", msg.ID, "after", freezeHold)
		}
	})
	return "ok"
}

func (n *Node) respond(q *serf.Query, answer string) {
	if err := q.Respond([]byte(answer)); err != nil {
		n.log.Warn("cluster: answer to "+q.Name, "err", err)
		var msg freezeMsg
		if q.Name == queryFreeze && json.Unmarshal(q.Payload, &msg) == nil {
			n.thawLocal(msg.ID) // the asker gave up: hold nothing for it
		}
	}
}
