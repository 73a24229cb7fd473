package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/serf/serf"

	"github.com/cairn-storage/cairn/cluster/peers"
)

// startSerf creates the node's serf agent, encrypted with the gossip key.
func (n *Node) startSerf() error {
	cfg := n.cfg
	ml := cfg.Gossip
	if ml == nil {
		ml = memberlist.DefaultLANConfig()
	}
	host, port, err := splitHostPort(cfg.BindAddr)
	if err != nil {
		return fmt.Errorf("gossip bind address: %w", err)
	}
	ml.BindAddr, ml.BindPort = host, port
	ml.AdvertisePort = port
	if cfg.AdvertiseAddr != "" {
		if ml.AdvertiseAddr, ml.AdvertisePort, err = splitHostPort(cfg.AdvertiseAddr); err != nil {
			return fmt.Errorf("gossip advertise address: %w", err)
		}
		// memberlist wants an IP; a host name (a container's) is resolved.
		if net.ParseIP(ml.AdvertiseAddr) == nil {
			ips, err := net.LookupIP(ml.AdvertiseAddr)
			if err != nil || len(ips) == 0 {
				return fmt.Errorf("gossip advertise address %q: %v", cfg.AdvertiseAddr, err)
			}
			ml.AdvertiseAddr = ips[0].String()
		}
	}
	ring, err := memberlist.NewKeyring(nil, cfg.GossipKey)
	if err != nil {
		return fmt.Errorf("gossip key: %w", err)
	}
	ml.Keyring = ring
	ml.GossipVerifyIncoming, ml.GossipVerifyOutgoing = true, true
	if ml.DeadNodeReclaimTime == 0 {
		// A node restarted elsewhere (a new container IP) may take its
		// name back once the old incarnation is dead for this long.
		ml.DeadNodeReclaimTime = 10 * time.Second
	}
	logger := log.New(&serfLog{log: n.log.With("component", "serf")}, "", 0)
	ml.Logger = logger

	sc := serf.DefaultConfig()
	sc.NodeName = cfg.Name
	sc.Tags = n.self.Tags()
	sc.MemberlistConfig = ml
	sc.Logger = logger
	sc.EventCh = n.events
	// Rejoin under the same name after a restart, and keep failed members
	// listed well past the grace period so their absence stays visible.
	sc.RejoinAfterLeave = true
	// Members cut off by a partition find each other again when one of
	// them retries: serf's 30 s default left writers failing that long
	// after the network was back.
	sc.ReconnectInterval = reconnectInterval
	sc.ReconnectTimeout = max(sc.ReconnectTimeout, 4*cfg.Grace)
	sc.TombstoneTimeout = max(sc.TombstoneTimeout, 4*cfg.Grace)
	s, err := serf.Create(sc)
	if err != nil {
		return fmt.Errorf("start gossip: %w", err)
	}
	n.serf = s
	return nil
}

// reconnectInterval is how often a member tries to reach a failed one.
const reconnectInterval = 5 * time.Second

// join contacts the seed addresses, retrying in the background until one
// answers or the node stops.
func (n *Node) join(seeds []string) {
	if len(seeds) == 0 {
		return
	}
	try := func() bool {
		k, err := n.serf.Join(seeds, true)
		if err != nil && k == 0 {
			n.log.Warn("cluster: join failed; retrying", "seeds", seeds, "err", err)
			return false
		}
		n.log.Info("cluster: joined", "contacted", k)
		return true
	}
	if try() {
		return
	}
	n.wg.Go(func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-n.stop:
				return
			case <-t.C:
				if len(n.serf.Members()) > 1 || try() {
					return
				}
			}
		}
	})
}

// watch rebuilds the view on membership events, and periodically so
// that grace periods expire.
func (n *Node) watch() {
	tick := time.NewTicker(min(n.cfg.Grace/4, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-n.stop:
			return
		case ev := <-n.events:
			switch ev := ev.(type) {
			case serf.MemberEvent:
				n.refresh()
			case *serf.Query:
				n.wg.Go(func() { n.handleQuery(ev) })
			}
		case <-tick.C:
			n.refresh()
		}
	}
}

// refresh builds a new view from serf's member list and publishes it.
func (n *Node) refresh() *view {
	n.viewMu.Lock()
	defer n.viewMu.Unlock()
	now := time.Now()
	var members []peers.Peer
	seen := make(map[string]bool)
	for _, m := range n.serf.Members() {
		p, err := peers.Parse(m)
		if err != nil {
			if !errors.Is(err, peers.ErrNotCairn) && !n.badTags[m.Name] {
				n.log.Warn("cluster: ignoring member", "err", err)
				n.badTags[m.Name] = true
			}
			continue
		}
		members = append(members, p)
		seen[p.Name] = true
		if p.Status == peers.StatusAlive {
			delete(n.downSince, p.Name)
		} else if _, ok := n.downSince[p.Name]; !ok {
			n.downSince[p.Name] = now
		}
	}
	for name := range n.downSince {
		if !seen[name] {
			delete(n.downSince, name)
		}
	}
	slices.SortFunc(members, func(a, b peers.Peer) int { return strings.Compare(a.Name, b.Name) })
	v := newView(n.cfg.Name, members, func(name string) time.Duration {
		return now.Sub(n.downSince[name])
	}, &n.cfg)
	old := n.view.Load()
	if old != nil && v.sameAs(old) {
		v.gen, v.changed = old.gen, old.changed
	} else {
		v.changed = now
		if old != nil {
			v.gen = old.gen + 1
			n.log.Info("cluster: membership changed", "placement", v.table.Len(), "up", len(v.up), "replicas", v.r)
		}
		if n.repair != nil {
			n.repair.poke()
		}
	}
	n.view.Store(v)
	n.metrics.observeView(v)
	return v
}

// setTags publishes the node's tags (after a drain change).
func (n *Node) setTags() error {
	if err := n.serf.SetTags(n.self.Tags()); err != nil {
		return fmt.Errorf("cluster: set tags: %w", err)
	}
	n.refresh()
	return nil
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", addr)
	}
	return host, port, nil
}

// serfLog turns serf's and memberlist's "[LEVEL] text" lines into slog
// records.
type serfLog struct{ log *slog.Logger }

func (w *serfLog) Write(p []byte) (int, error) {
	line := string(bytes.TrimSpace(p))
	level := slog.LevelInfo
	for prefix, l := range map[string]slog.Level{
		"[DEBUG]": slog.LevelDebug, "[INFO]": slog.LevelInfo, "[WARN]": slog.LevelWarn, "[ERR]": slog.LevelError,
	} {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			level, line = l, strings.TrimSpace(rest)
			break
		}
	}
	w.log.Log(context.Background(), level, line)
	return len(p), nil
}
