package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
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

// adminRPC calls the storage nodes' admin routes (cluster/admin.go), by
// member name, over the cluster's mutual TLS. Both the daemon's Cluster
// service and `cairn cluster --addr` use it.
type adminRPC struct{ rpc *rpc.Client }

// status returns the report of the storage node name.
func (a adminRPC) status(ctx context.Context, name string) (cluster.NodeStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, clusterAdminTimeout)
	defer cancel()
	var st cluster.NodeStatus
	err := a.rpc.CallJSON(ctx, http.MethodGet, name, "/v1/status", nil, &st)
	return utcStatus(st), err
}

// drain starts (on) or stops draining the storage node name and returns
// its report; the route also wakes the node's repair loop, to start
// moving chunks at once.
func (a adminRPC) drain(ctx context.Context, name string, on bool) (cluster.NodeStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, clusterAdminTimeout)
	defer cancel()
	var st cluster.NodeStatus
	if err := a.rpc.CallJSON(ctx, http.MethodPost, name, "/v1/drain", cluster.DrainRequest{Drain: on}, &st); err != nil {
		return st, fmt.Errorf("drain %s: %w", name, err)
	}
	return utcStatus(st), nil
}

// utcStatus has st's times in UTC, as the control API carries them, so
// that a report prints the same from a node as through a daemon.
func utcStatus(st cluster.NodeStatus) cluster.NodeStatus {
	st.Repair.LastScan = st.Repair.LastScan.UTC()
	return st
}

// clusterStatusRow is a member with, for a storage node gossip says is
// alive, its own report or why it sent none: one line of `cluster
// status`, one member of the Cluster service.
type clusterStatusRow struct {
	cluster.Member
	// Report is the node's own account; the embedded Member's Status is
	// its gossip state.
	Report *cluster.NodeStatus `json:"report,omitempty"`
	Error  string              `json:"error,omitempty"`
}

// withReports returns members as rows, with the report of every alive
// storage node, asked with status all at once.
func withReports(ctx context.Context, members []cluster.Member,
	status func(context.Context, string) (cluster.NodeStatus, error)) []clusterStatusRow {
	rows := make([]clusterStatusRow, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		rows[i].Member = m
		if m.Role != peers.RoleStorage || m.Status != peers.StatusAlive {
			continue
		}
		wg.Go(func() {
			st, err := status(ctx, m.Name)
			if err != nil {
				rows[i].Error = err.Error()
				return
			}
			rows[i].Report = &st
		})
	}
	wg.Wait()
	return rows
}

// storageRows keeps the storage nodes' rows.
func storageRows(rows []clusterStatusRow) []clusterStatusRow {
	return slices.DeleteFunc(rows, func(r clusterStatusRow) bool { return r.Role != peers.RoleStorage })
}

// clusterAdmin is the daemon's cluster node as control.ClusterAdmin: the
// membership as this node sees it, its own report, and the other nodes'
// reports and drains through their admin routes (with this node's own
// certificate), as `cairn cluster --addr` does from outside.
type clusterAdmin struct {
	node *cluster.Node
	adminRPC
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
	return &clusterAdmin{node: node, adminRPC: adminRPC{rpc.NewClient(b.ClientTLS(), memberAddr(node))}}, nil
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
	rows := withReports(ctx, a.node.MemberList(), a.status)
	out := make([]*cairnv1.Member, len(rows))
	for i, r := range rows {
		out[i] = rowProto(r)
	}
	return out, nil
}

// status returns a storage node's report: this node's directly, the
// others' through their admin route.
func (a *clusterAdmin) status(ctx context.Context, name string) (cluster.NodeStatus, error) {
	if name != a.node.Name() {
		return a.adminRPC.status(ctx, name)
	}
	ctx, cancel := context.WithTimeout(ctx, clusterAdminTimeout)
	defer cancel()
	st, err := a.node.Status(ctx)
	return utcStatus(st), err
}

// Drain asks node to start or stop draining, through its admin route
// (also for this node: the route wakes its repair loop).
func (a *clusterAdmin) Drain(ctx context.Context, node string, cancel bool) (*cairnv1.NodeReport, error) {
	st, err := a.drain(ctx, node, !cancel)
	if err != nil {
		return nil, err
	}
	return nodeReportProto(st), nil
}
