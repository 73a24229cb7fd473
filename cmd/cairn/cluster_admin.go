package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/cluster"
	"github.com/cairn-storage/cairn/cluster/peers"
	"github.com/cairn-storage/cairn/cluster/pki"
	"github.com/cairn-storage/cairn/cluster/rpc"
	"github.com/cairn-storage/cairn/control"
)

// clusterAdminTimeout bounds one call to a node: a node that does not
// answer is reported as such instead of holding the whole status up.
const clusterAdminTimeout = 10 * time.Second

// clusterAdmin is the daemon's cluster node as control.ClusterAdmin: the
// membership as this node sees it, and the other nodes' reports and
// drains through their admin routes (over the cluster's mutual TLS, with
// this node's own certificate), as `cairn cluster status` and `cairn
// cluster drain` do from outside.
type clusterAdmin struct {
	node *cluster.Node
	rpc  *rpc.Client
}

var _ control.ClusterAdmin = (*clusterAdmin)(nil)

// newClusterAdmin returns the control API's view of node, a node started
// with the bundle in tlsDir (--tls-dir). Close it after the control
// server stops.
func newClusterAdmin(node *cluster.Node, tlsDir string) (*clusterAdmin, error) {
	b, err := pki.LoadBundle(tlsDir)
	if err != nil {
		return nil, fmt.Errorf("cluster admin: %w", err)
	}
	return &clusterAdmin{node: node, rpc: rpc.NewClient(b.ClientTLS(), memberAddr(node))}, nil
}

// memberAddr resolves member names to chunk RPC addresses through node's
// current membership.
func memberAddr(node *cluster.Node) func(name string) (string, bool) {
	return func(name string) (string, bool) {
		for _, p := range node.Members() {
			if p.Name == name && p.Addr != "" {
				return p.Addr, true
			}
		}
		return "", false
	}
}

// Close releases the connections to the other nodes.
func (a *clusterAdmin) Close() error {
	a.rpc.Close()
	return nil
}

// Members lists every member; storage nodes that gossip says are alive
// are asked for their report, all at once.
func (a *clusterAdmin) Members(ctx context.Context) ([]*cairnv1.Member, error) {
	members := a.node.Members()
	out := make([]*cairnv1.Member, len(members))
	var wg sync.WaitGroup
	for i, p := range members {
		out[i] = memberProto(p)
		if p.Role != peers.RoleStorage || p.Status != peers.StatusAlive {
			continue
		}
		wg.Go(func() {
			st, err := a.status(ctx, p.Name)
			if err != nil {
				out[i].Error = err.Error()
				return
			}
			out[i].Report = nodeReportProto(st)
		})
	}
	wg.Wait()
	return out, nil
}

// status returns a storage node's report: this node's directly, the
// others' through their admin route.
func (a *clusterAdmin) status(ctx context.Context, name string) (cluster.NodeStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, clusterAdminTimeout)
	defer cancel()
	if name == a.node.Name() {
		return a.node.Status(ctx)
	}
	var st cluster.NodeStatus
	err := a.rpc.CallJSON(ctx, http.MethodGet, name, "/v1/status", nil, &st)
	return st, err
}

// Drain asks node to start or stop draining, through its admin route
// (also for this node: the route wakes its repair loop to start moving
// chunks at once).
func (a *clusterAdmin) Drain(ctx context.Context, node string, cancel bool) (*cairnv1.NodeReport, error) {
	ctx, stop := context.WithTimeout(ctx, clusterAdminTimeout)
	defer stop()
	var st cluster.NodeStatus
	if err := a.rpc.CallJSON(ctx, http.MethodPost, node, "/v1/drain", cluster.DrainRequest{Drain: !cancel}, &st); err != nil {
		return nil, fmt.Errorf("drain %s: %w", node, err)
	}
	return nodeReportProto(st), nil
}

// memberProto is the API form of a member as gossip describes it.
func memberProto(p peers.Peer) *cairnv1.Member {
	return &cairnv1.Member{Name: p.Name, Role: string(p.Role), State: string(p.Status), Draining: p.Draining,
		Zone: p.Zone, Address: p.Addr, Gossip: p.Gossip, Capacity: p.Capacity}
}

// nodeReportProto is the API form of a storage node's report.
func nodeReportProto(st cluster.NodeStatus) *cairnv1.NodeReport {
	return &cairnv1.NodeReport{Chunks: st.Local.Chunks, StoredBytes: st.Local.StoredBytes,
		Replicas: int32(st.Replicas), ConfiguredReplicas: int32(st.Configured), PlacementNodes: int32(st.PlacementNodes),
		DegradedPuts: st.DegradedPuts, UnderReplicated: st.Repair.UnderReplicated, Repair: repairText(st.Repair),
		Drained: st.Drained}
}
