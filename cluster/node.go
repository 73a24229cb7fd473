package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/serf/serf"
	"golang.org/x/time/rate"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/cluster/peers"
	"github.com/cairn-storage/cairn/cluster/rpc"
)

// Backend is a storage node's local chunk store (normally *chunks.Local),
// which the node serves to its peers.
type Backend = rpc.Backend

// Node is one running cluster member: gossip membership (serf), and for a
// storage node the chunk RPC server over its local store and the repair
// loop. Store returns the chunk store that reads and writes through the
// whole cluster.
type Node struct {
	cfg     Config
	log     *slog.Logger
	local   Backend // nil on a gateway
	client  *rpc.Client
	metrics *metrics
	limiter *rate.Limiter // repair and rebalance bandwidth
	store   *Store
	repair  *repairer

	selfMu sync.Mutex
	self   peers.Peer // the node's own tags

	serf   *serf.Serf
	events chan serf.Event
	freeze freezer // see freeze.go

	viewMu    sync.Mutex // serializes refresh
	view      atomic.Pointer[view]
	downSince map[string]time.Time // guarded by viewMu
	badTags   map[string]bool      // members already warned about

	ln  net.Listener
	srv *http.Server

	stop    chan struct{}
	wg      sync.WaitGroup
	closing atomic.Bool
}

// Start starts a node. A storage node serves local to its peers (local
// must stay open until Close returns; the node never closes it); a
// gateway passes nil.
func Start(cfg Config, local Backend) (*Node, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if (cfg.Role == peers.RoleStorage) != (local != nil) {
		return nil, fmt.Errorf("cluster: a %s node needs a local store exactly when it stores chunks", cfg.Role)
	}
	n := &Node{
		cfg:       cfg,
		log:       cfg.Logger.With("node", cfg.Name),
		local:     local,
		metrics:   newMetrics(cfg.Registerer, cfg.Name),
		events:    make(chan serf.Event, 256),
		downSince: make(map[string]time.Time),
		badTags:   make(map[string]bool),
		stop:      make(chan struct{}),
		self: peers.Peer{Name: cfg.Name, Zone: cfg.Zone, Capacity: cfg.Capacity,
			Version: peers.Version, Role: cfg.Role, Meta: cfg.Meta},
	}
	if cfg.Role == peers.RoleStorage {
		n.self.Replicas, n.self.WriteQuorum = cfg.Replicas, cfg.WriteQuorum
	}
	n.limiter = rate.NewLimiter(rate.Inf, chunks.MaxSize)
	if cfg.RepairBandwidth > 0 {
		n.limiter = rate.NewLimiter(rate.Limit(cfg.RepairBandwidth), chunks.MaxSize)
	}
	n.client = rpc.NewClient(cfg.TLS.ClientTLS(), n.resolve)
	n.client.Observe = n.metrics.observeRPC
	if local != nil {
		if err := n.listen(); err != nil {
			return nil, err
		}
	}
	if err := n.startSerf(); err != nil {
		if n.ln != nil {
			n.ln.Close()
		}
		return nil, err
	}
	n.store = newStore(n)
	if local != nil {
		n.repair = newRepairer(n)
	}
	n.refresh()
	n.wg.Go(n.watch)
	if local != nil {
		n.serve()
		n.wg.Go(n.repair.run)
	}
	n.join(cfg.Join)
	n.log.Info("cluster: node started", "role", cfg.Role, "gossip", n.serf.LocalMember().Addr,
		"rpc", n.self.Addr, "zone", cfg.Zone, "replicas", cfg.Replicas)
	return n, nil
}

// listen opens the chunk RPC listener and fills in the advertised address.
func (n *Node) listen() error {
	ln, err := net.Listen("tcp", n.cfg.RPCAddr)
	if err != nil {
		return fmt.Errorf("cluster: chunk RPC: %w", err)
	}
	addr := n.cfg.RPCAdvertise
	if addr == "" {
		host, port, _ := net.SplitHostPort(ln.Addr().String())
		if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
			host = ""
			if n.cfg.AdvertiseAddr != "" {
				host, _, _ = net.SplitHostPort(n.cfg.AdvertiseAddr)
			}
			if host == "" {
				ln.Close()
				return errors.New("cluster: chunk RPC listens on all interfaces: set the advertised address")
			}
		}
		addr = net.JoinHostPort(host, port)
	}
	n.ln = ln
	n.self.Addr = addr
	return nil
}

// serve runs the chunk RPC and admin routes over mutual TLS.
func (n *Node) serve() {
	mux := http.NewServeMux()
	rpc.Register(mux, n.local)
	n.registerAdmin(mux)
	n.srv = &http.Server{
		Handler:           mux,
		TLSConfig:         n.cfg.TLS.ServerTLS(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// Chunks are up to 64 MiB: larger windows than the 1 MiB default
		// keep a stream from stalling on flow control.
		HTTP2: &http.HTTP2Config{
			MaxReceiveBufferPerStream:     8 << 20,
			MaxReceiveBufferPerConnection: 32 << 20,
		},
		ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelDebug),
	}
	ln := tls.NewListener(n.ln, n.srv.TLSConfig)
	n.wg.Go(func() {
		if err := n.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("cluster: chunk RPC server stopped", "err", err)
		}
	})
}

// resolve maps a node name to its chunk RPC address.
func (n *Node) resolve(name string) (string, bool) {
	p, ok := n.view.Load().peer(name)
	if !ok || p.Addr == "" {
		return "", false
	}
	return p.Addr, true
}

// Name returns the node's name.
func (n *Node) Name() string { return n.cfg.Name }

// RPCAddr returns the advertised chunk RPC address ("" on a gateway).
func (n *Node) RPCAddr() string { return n.self.Addr }

// GossipAddr returns the gossip address others join.
func (n *Node) GossipAddr() string {
	m := n.serf.LocalMember()
	return net.JoinHostPort(m.Addr.String(), fmt.Sprint(m.Port))
}

// Store returns the chunk store over the whole cluster. Closing it syncs
// it; the node keeps running until Close.
func (n *Node) Store() *Store { return n.store }

// Members returns the cairn members as this node sees them, by name.
func (n *Node) Members() []peers.Peer { return n.view.Load().peers }

// SetDraining marks the node draining (or not) in its tags: every node
// then places chunks without it, and its repair loop hands its chunks to
// their owners and deletes them once R other copies are durable.
func (n *Node) SetDraining(on bool) error {
	n.selfMu.Lock()
	defer n.selfMu.Unlock()
	if n.self.Draining == on {
		return nil
	}
	n.self.Draining = on
	if err := n.setTags(); err != nil {
		n.self.Draining = !on
		return err
	}
	n.log.Info("cluster: drain", "draining", on)
	return nil
}

// Close leaves the cluster gracefully (peers see the node as left, and
// re-replicate its chunks only after the grace period), then stops the
// RPC server and the background work. It does not close the local store.
func (n *Node) Close() error {
	return n.shutdown(true)
}

// shutdown stops the node; leave says whether to tell the others first
// (false simulates a crash).
func (n *Node) shutdown(leave bool) error {
	if !n.closing.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	if leave {
		if err := n.serf.Leave(); err != nil {
			errs = append(errs, fmt.Errorf("leave: %w", err))
		}
	}
	errs = append(errs, n.serf.Shutdown())
	close(n.stop)
	if n.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if !leave {
			n.srv.Close()
		} else if err := n.srv.Shutdown(ctx); err != nil {
			n.srv.Close()
		}
		cancel()
	}
	n.store.wait()
	n.wg.Wait()
	n.client.Close()
	return errors.Join(errs...)
}
