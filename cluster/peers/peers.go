// Package peers reads and writes the serf tags by which cairn nodes
// describe themselves to the cluster. Parse is the only place that
// interprets a member's tags (as Nomad's peers.IsNomadServer): everything
// else works on the typed Peer it returns.
package peers

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/hashicorp/serf/serf"
)

// Role says what a node does in the cluster.
type Role string

const (
	// RoleStorage nodes hold chunks and serve the chunk RPC.
	RoleStorage Role = "storage"
	// RoleGateway nodes hold no chunks: they read and write through the
	// storage nodes (NFS gateways, CSI controllers, clients).
	RoleGateway Role = "gateway"
)

// Version is the chunk-RPC protocol version this build speaks.
const Version = 1

// The tag keys. The "cairn" tag marks a serf member as a cairn node, so
// foreign members of the same gossip pool are ignored.
const (
	tagCairn    = "cairn"
	tagRole     = "role"
	tagRPC      = "rpc"
	tagZone     = "zone"
	tagCapacity = "cap"
	tagVersion  = "ver"
	tagDrain    = "drain"
	tagReplicas = "r"
	tagMeta     = "meta"
)

// Status is a member's liveness as the gossip layer sees it.
type Status string

// The member statuses (serf's, renamed).
const (
	StatusAlive   Status = "alive"
	StatusLeaving Status = "leaving"
	StatusLeft    Status = "left"
	StatusFailed  Status = "failed"
)

// Peer is a cairn node as described by its tags.
type Peer struct {
	Name string `json:"name"`
	// Addr is the chunk RPC address, host:port.
	Addr string `json:"addr"`
	// Zone is the node's failure domain; "" for none.
	Zone string `json:"zone,omitempty"`
	// Capacity is the node's share of chunks, in bytes of disk.
	Capacity int64  `json:"capacity"`
	Version  int    `json:"version"`
	Role     Role   `json:"role"`
	Draining bool   `json:"draining,omitempty"`
	Status   Status `json:"status"`
	// Gossip is the member's gossip address.
	Gossip string `json:"gossip"`
	// Replicas and WriteQuorum are the storage node's R and write quorum
	// settings, which clients joining with --cluster adopt (0: not told).
	Replicas    int `json:"replicas,omitempty"`
	WriteQuorum int `json:"write_quorum,omitempty"`
	// Meta lists the metadata store's endpoints the node uses (etcd
	// client URLs, comma-separated), for clients to find it.
	Meta string `json:"meta,omitempty"`
}

// ErrNotCairn is returned by Parse for a member without the cairn tag.
var ErrNotCairn = errors.New("not a cairn node")

// Parse reads a serf member's tags. It fails with ErrNotCairn for foreign
// members and with a descriptive error for malformed or incompatible
// tags; callers skip such members (and log them).
func Parse(m serf.Member) (Peer, error) {
	t := m.Tags
	if t[tagCairn] != "1" {
		return Peer{}, fmt.Errorf("member %s: %w", m.Name, ErrNotCairn)
	}
	p := Peer{
		Name:     m.Name,
		Addr:     t[tagRPC],
		Zone:     t[tagZone],
		Role:     Role(t[tagRole]),
		Draining: t[tagDrain] == "1",
		Status:   status(m.Status),
		Gossip:   net.JoinHostPort(m.Addr.String(), strconv.Itoa(int(m.Port))),
		Meta:     t[tagMeta],
	}
	var err error
	if r := t[tagReplicas]; r != "" {
		rs, ws, _ := strings.Cut(r, "/")
		p.Replicas, err = strconv.Atoi(rs)
		if err == nil {
			p.WriteQuorum, err = strconv.Atoi(ws)
		}
		if err != nil || p.Replicas < 1 || p.WriteQuorum < 0 || p.WriteQuorum > p.Replicas {
			return Peer{}, fmt.Errorf("member %s: bad %s tag %q", m.Name, tagReplicas, r)
		}
	}
	if p.Version, err = strconv.Atoi(t[tagVersion]); err != nil || p.Version < 1 {
		return Peer{}, fmt.Errorf("member %s: bad %s tag %q", m.Name, tagVersion, t[tagVersion])
	}
	if p.Version > Version {
		return Peer{}, fmt.Errorf("member %s speaks chunk RPC v%d, this node v%d", m.Name, p.Version, Version)
	}
	switch p.Role {
	case RoleStorage:
		if p.Capacity, err = strconv.ParseInt(t[tagCapacity], 10, 64); err != nil || p.Capacity <= 0 {
			return Peer{}, fmt.Errorf("member %s: bad %s tag %q", m.Name, tagCapacity, t[tagCapacity])
		}
		if _, _, err := net.SplitHostPort(p.Addr); err != nil {
			return Peer{}, fmt.Errorf("member %s: bad %s tag %q: %v", m.Name, tagRPC, p.Addr, err)
		}
	case RoleGateway:
	default:
		return Peer{}, fmt.Errorf("member %s: unknown role %q", m.Name, p.Role)
	}
	return p, nil
}

// Tags returns the serf tags that describe p (Status and Gossip are not
// tags: serf supplies them).
func (p Peer) Tags() map[string]string {
	t := map[string]string{
		tagCairn:   "1",
		tagRole:    string(p.Role),
		tagVersion: strconv.Itoa(p.Version),
	}
	if p.Addr != "" {
		t[tagRPC] = p.Addr
	}
	if p.Zone != "" {
		t[tagZone] = p.Zone
	}
	if p.Capacity > 0 {
		t[tagCapacity] = strconv.FormatInt(p.Capacity, 10)
	}
	if p.Draining {
		t[tagDrain] = "1"
	}
	if p.Replicas > 0 {
		t[tagReplicas] = strconv.Itoa(p.Replicas) + "/" + strconv.Itoa(p.WriteQuorum)
	}
	if p.Meta != "" {
		t[tagMeta] = p.Meta
	}
	return t
}

// IsStorage reports whether p holds chunks.
func (p Peer) IsStorage() bool { return p.Role == RoleStorage }

func status(s serf.MemberStatus) Status {
	switch s {
	case serf.StatusAlive:
		return StatusAlive
	case serf.StatusLeaving:
		return StatusLeaving
	case serf.StatusLeft:
		return StatusLeft
	default:
		return StatusFailed
	}
}
