package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-storage/cairn/cluster/peers"
	"github.com/cairn-storage/cairn/cluster/pki"
)

// Defaults of Config.
const (
	DefaultReplicas       = 3
	DefaultGrace          = 5 * time.Minute
	DefaultRepairInterval = time.Minute
	DefaultSettle         = 30 * time.Second
	DefaultRPCTimeout     = 30 * time.Second
	DefaultGossipPort     = 7946
	DefaultRPCPort        = 7947
)

// Config configures a Node.
type Config struct {
	// Name is the node's name, unique in the cluster and stable across
	// restarts (placement hashes it); a DNS label, matching its TLS
	// certificate.
	Name string
	// Role: peers.RoleStorage (holds chunks; needs a local store) or
	// peers.RoleGateway (reads and writes through the storage nodes).
	Role peers.Role
	// Zone is the node's failure domain; replicas go to distinct zones.
	Zone string
	// Capacity is the node's placement weight, in bytes (storage only).
	Capacity int64

	// BindAddr is the gossip address, host:port (port 0: any).
	BindAddr string
	// AdvertiseAddr is the gossip address others use; default BindAddr.
	AdvertiseAddr string
	// RPCAddr is where a storage node serves the chunk RPC (port 0: any).
	RPCAddr string
	// RPCAdvertise is the chunk RPC address others use; default RPCAddr
	// with the host of AdvertiseAddr when RPCAddr's host is unspecified.
	RPCAdvertise string
	// Join lists gossip addresses of existing members. Start keeps
	// retrying in the background until one answers.
	Join []string

	// TLS holds the node's certificate, the cluster CA and the gossip key.
	TLS *pki.Bundle
	// GossipKey encrypts gossip (16, 24 or 32 bytes); default TLS.GossipKey.
	// Required: a cluster never gossips in the clear.
	GossipKey []byte

	// Replicas is R, the number of copies of each chunk (default 3). It is
	// capped by the number of storage nodes.
	Replicas int
	// WriteQuorum is the number of copies a Put needs to succeed (default
	// a majority of R). Put writes R copies when R nodes are up; with
	// fewer it succeeds degraded (counted, repaired later) if it reached
	// the quorum and fails with ErrUnderReplicated otherwise. Set it to R
	// to make every under-replicated write fail.
	WriteQuorum int
	// FollowReplicas makes a gateway adopt the replica count and write
	// quorum the storage nodes advertise (their most common setting),
	// with Replicas and WriteQuorum as the fallback while none is known:
	// what a client joining with --cluster wants.
	FollowReplicas bool
	// Meta is advertised to the other members: the metadata store's
	// endpoints this node uses (etcd client URLs, comma-separated), so
	// that clients find the namespace from a gossip address alone.
	Meta string
	// Grace is how long a failed or departed member keeps its chunks'
	// ownership before the repair loop re-replicates them (default 5m).
	Grace time.Duration
	// RepairInterval is the pause between repair scans (default 1m).
	RepairInterval time.Duration
	// Settle is how long membership must be stable before a node deletes
	// copies it no longer owns (default 30s).
	Settle time.Duration
	// RepairBandwidth caps repair and rebalance traffic sent by this node,
	// in bytes per second (0: unlimited).
	RepairBandwidth int64
	// RPCTimeout bounds each chunk RPC (default 30s).
	RPCTimeout time.Duration

	// Gossip is the memberlist configuration to start from (default
	// memberlist.DefaultLANConfig); name, addresses and keys are set by
	// the Node. Tests pass short timings here.
	Gossip *memberlist.Config
	// Logger receives the node's logs, serf's included (default slog.Default()).
	Logger *slog.Logger
	// Registerer, if set, gets the node's Prometheus metrics.
	Registerer prometheus.Registerer
}

// withDefaults returns c with defaults filled in, or why c is invalid.
func (c Config) withDefaults() (Config, error) {
	if err := pki.ValidName(c.Name); err != nil {
		return c, err
	}
	if c.Role == "" {
		c.Role = peers.RoleStorage
	}
	if c.Role != peers.RoleStorage && c.Role != peers.RoleGateway {
		return c, fmt.Errorf("cluster: unknown role %q", c.Role)
	}
	if c.TLS == nil {
		return c, errors.New("cluster: no TLS bundle (make one with `cairn cluster init`)")
	}
	if c.GossipKey == nil {
		c.GossipKey = c.TLS.GossipKey
	}
	if n := len(c.GossipKey); n != 16 && n != 24 && n != 32 {
		return c, fmt.Errorf("cluster: gossip key of %d bytes, want 16, 24 or 32", n)
	}
	if c.Replicas <= 0 {
		c.Replicas = DefaultReplicas
	}
	if c.WriteQuorum <= 0 {
		c.WriteQuorum = c.Replicas/2 + 1
	}
	c.WriteQuorum = min(c.WriteQuorum, c.Replicas)
	if c.Grace <= 0 {
		c.Grace = DefaultGrace
	}
	if c.RepairInterval <= 0 {
		c.RepairInterval = DefaultRepairInterval
	}
	if c.Settle <= 0 {
		c.Settle = DefaultSettle
	}
	if c.RPCTimeout <= 0 {
		c.RPCTimeout = DefaultRPCTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.BindAddr == "" {
		c.BindAddr = fmt.Sprintf("0.0.0.0:%d", DefaultGossipPort)
	}
	if _, _, err := net.SplitHostPort(c.BindAddr); err != nil {
		return c, fmt.Errorf("cluster: bind address %q: %w", c.BindAddr, err)
	}
	if c.Role == peers.RoleStorage {
		if c.Capacity <= 0 {
			return c, errors.New("cluster: a storage node needs a capacity > 0")
		}
		if c.RPCAddr == "" {
			c.RPCAddr = fmt.Sprintf("0.0.0.0:%d", DefaultRPCPort)
		}
	}
	return c, nil
}
