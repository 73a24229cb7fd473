package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/urfave/cli/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/cluster"
	"github.com/cairn-storage/cairn/cluster/pki"
	"github.com/cairn-storage/cairn/cluster/rpc"
	"github.com/cairn-storage/cairn/control/client"
)

// defaultNodeAddr is the node `cairn cluster --tls-dir` asks without
// --addr: the chunk RPC of a storage node on this machine.
const defaultNodeAddr = "127.0.0.1:7947"

// clusterSource is where `cairn cluster members|status|drain` learn about
// the cluster and send drains: the local node daemon's Cluster service,
// or (--addr, --tls-dir) a storage node's admin routes. Both answer in
// the cluster's own types, so the commands print the same either way.
type clusterSource interface {
	// members lists the members as the node asked sees them.
	members(ctx context.Context) ([]cluster.Member, error)
	// statusRows lists the storage nodes, each alive one with its report.
	statusRows(ctx context.Context) ([]clusterStatusRow, error)
	// report returns the storage node name's report.
	report(ctx context.Context, name string) (cluster.NodeStatus, error)
	// drain starts (on) or stops draining name; it returns once the node
	// has taken the order, with its report.
	drain(ctx context.Context, name string, on bool) (cluster.NodeStatus, error)
	Close() error
}

// withClusterSource runs fn with the cluster source the flags name:
// --addr or --tls-dir (here or before the command) ask a node directly;
// otherwise the daemon that owns --data (or serves --socket) is asked.
func withClusterSource(c *cli.Context, fn func(src clusterSource) error) error {
	var (
		src clusterSource
		err error
	)
	switch {
	case clientMode(c):
		return errors.New("`cairn cluster` asks a node, not the gossip: instead of --cluster, pass --addr HOST:7947 " +
			"(a storage node's chunk RPC address) with --tls-dir, or run it where a node's daemon runs")
	case c.IsSet("addr") || clientBundle(c) != "":
		src, err = newRemoteSource(c)
	default:
		src, err = newDaemonSource(c)
	}
	if err != nil {
		return err
	}
	defer src.Close()
	return fn(src)
}

// daemonSource is the Cluster service of the local node daemon.
type daemonSource struct {
	api    *client.Client
	socket string
}

func newDaemonSource(c *cli.Context) (*daemonSource, error) {
	sock := socketPath(c)
	api, err := client.Find(c.Context, sock)
	if errors.Is(err, client.ErrNoDaemon) {
		return nil, fmt.Errorf("%w: `cairn cluster %s` asks the node daemon (`cairn server --tls-dir ...`) "+
			"that owns --data %s or serves --socket; without one, ask a storage node directly with "+
			"--addr HOST:7947 --tls-dir BUNDLE (e.g. the admin bundle of `cairn cluster init`)", err, c.Command.Name, c.String("data"))
	}
	if err != nil {
		return nil, err
	}
	return &daemonSource{api: api, socket: sock}, nil
}

// Close closes the connection to the daemon.
func (d *daemonSource) Close() error { return d.api.Close() }

// rows returns every member as the daemon's node sees it, the alive
// storage nodes with their reports.
func (d *daemonSource) rows(ctx context.Context) ([]clusterStatusRow, error) {
	resp, err := d.api.Cluster.ClusterStatus(ctx, &cairnv1.ClusterStatusRequest{})
	if status.Code(err) == codes.FailedPrecondition {
		return nil, fmt.Errorf("the daemon on %s is not part of a cluster (it runs without --tls-dir or --cluster): "+
			"to ask a cluster's node from here, pass --addr HOST:7947 --tls-dir BUNDLE", d.socket)
	}
	if err != nil {
		return nil, apiError(err)
	}
	rows := make([]clusterStatusRow, len(resp.GetMembers()))
	for i, m := range resp.GetMembers() {
		rows[i] = rowFromProto(m)
	}
	return rows, nil
}

func (d *daemonSource) members(ctx context.Context) ([]cluster.Member, error) {
	rows, err := d.rows(ctx)
	out := make([]cluster.Member, len(rows))
	for i, r := range rows {
		out[i] = r.Member
	}
	return out, err
}

func (d *daemonSource) statusRows(ctx context.Context) ([]clusterStatusRow, error) {
	rows, err := d.rows(ctx)
	return storageRows(rows), err
}

func (d *daemonSource) report(ctx context.Context, name string) (cluster.NodeStatus, error) {
	rows, err := d.rows(ctx)
	if err != nil {
		return cluster.NodeStatus{}, err
	}
	i := slices.IndexFunc(rows, func(r clusterStatusRow) bool { return r.Name == name })
	switch {
	case i < 0:
		return cluster.NodeStatus{}, fmt.Errorf("%s has left the cluster", name)
	case rows[i].Error != "":
		return cluster.NodeStatus{}, errors.New(rows[i].Error)
	case rows[i].Report == nil:
		return cluster.NodeStatus{}, fmt.Errorf("%s sent no report: gossip says it is %s", name, rows[i].Status)
	}
	return *rows[i].Report, nil
}

func (d *daemonSource) drain(ctx context.Context, name string, on bool) (cluster.NodeStatus, error) {
	resp, err := d.api.Cluster.Drain(ctx, &cairnv1.DrainRequest{Node: name, Cancel: !on})
	if err != nil {
		return cluster.NodeStatus{}, apiError(err)
	}
	return nodeStatusFromProto(resp.GetReport()), nil
}

// remoteSource asks the storage node at --addr over the cluster's mutual
// TLS, with the member list it gave so that other nodes are called by
// name.
type remoteSource struct {
	adminRPC
	list []cluster.Member
}

func newRemoteSource(c *cli.Context) (*remoteSource, error) {
	dir := clientBundle(c)
	if dir == "" {
		return nil, errors.New("--addr needs --tls-dir: a bundle of the cluster's CA (e.g. the admin bundle of `cairn cluster init`)")
	}
	b, err := pki.LoadBundle(dir)
	if err != nil {
		return nil, err
	}
	addr := c.String("addr")
	if addr == "" {
		addr = defaultNodeAddr
	}
	r := &remoteSource{}
	r.rpc = rpc.NewClient(b.ClientTLS(), func(name string) (string, bool) {
		for _, m := range r.list {
			if m.Name == name && m.Addr != "" {
				return m.Addr, true
			}
		}
		return "", false
	})
	ctx, cancel := context.WithTimeout(c.Context, clusterAdminTimeout)
	defer cancel()
	if err := r.rpc.CallJSON(ctx, http.MethodGet, addr, "/v1/members", nil, &r.list); err != nil {
		r.rpc.Close()
		return nil, fmt.Errorf("members from %s: %w", addr, err)
	}
	return r, nil
}

// Close releases the connections to the nodes.
func (r *remoteSource) Close() error {
	r.rpc.Close()
	return nil
}

func (r *remoteSource) members(context.Context) ([]cluster.Member, error) { return r.list, nil }

func (r *remoteSource) statusRows(ctx context.Context) ([]clusterStatusRow, error) {
	return storageRows(withReports(ctx, r.list, r.status)), nil
}

func (r *remoteSource) report(ctx context.Context, name string) (cluster.NodeStatus, error) {
	return r.status(ctx, name)
}
