package control

import (
	"context"
	"slices"

	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// ClusterAdmin is the cluster as the daemon's Cluster service needs it;
// the wiring adapts the cluster node to it.
type ClusterAdmin interface {
	// Members lists the members with the storage nodes' reports.
	Members(ctx context.Context) ([]*cairnv1.Member, error)
	// Drain starts (cancel false) or stops draining node, a storage node
	// among Members, and returns its report once it has taken the order.
	// Draining a node that already drains (or stopping one that does not)
	// changes nothing.
	Drain(ctx context.Context, node string, cancel bool) (*cairnv1.NodeReport, error)
}

// Member roles, as ClusterAdmin reports them.
const (
	RoleStorage = "storage"
	RoleGateway = "gateway"
)

// clusterService implements cairnv1.ClusterServer over cfg.Cluster.
type clusterService struct{ s *Server }

var _ cairnv1.ClusterServer = clusterService{}

// admin returns the cluster, or FailedPrecondition on a single node.
func (c clusterService) admin() (ClusterAdmin, error) {
	if c.s.cfg.Cluster == nil {
		return nil, errorf(codes.FailedPrecondition, "this daemon is not part of a cluster")
	}
	return c.s.cfg.Cluster, nil
}

// ClusterStatus lists the members and the storage nodes' reports.
func (c clusterService) ClusterStatus(ctx context.Context, _ *cairnv1.ClusterStatusRequest) (*cairnv1.ClusterStatusResponse, error) {
	a, err := c.admin()
	if err != nil {
		return nil, err
	}
	members, err := a.Members(ctx)
	if err != nil {
		return nil, err
	}
	return &cairnv1.ClusterStatusResponse{Members: members}, nil
}

// Drain starts or stops draining a storage node. The node is checked
// against the membership first, so a typo is NotFound rather than a
// failed call to a node that does not exist.
func (c clusterService) Drain(ctx context.Context, r *cairnv1.DrainRequest) (*cairnv1.DrainResponse, error) {
	a, err := c.admin()
	if err != nil {
		return nil, err
	}
	if r.GetNode() == "" {
		return nil, required("node")
	}
	members, err := a.Members(ctx)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(members, func(m *cairnv1.Member) bool { return m.GetName() == r.GetNode() })
	switch {
	case i < 0:
		return nil, errorf(codes.NotFound, "%s is not a member of this cluster (see cairn cluster status)", r.GetNode())
	case members[i].GetRole() != RoleStorage:
		return nil, errorf(codes.FailedPrecondition, "%s is a %s node: only storage nodes hold chunks to drain",
			r.GetNode(), members[i].GetRole())
	}
	rep, err := a.Drain(ctx, r.GetNode(), r.GetCancel())
	if err != nil {
		return nil, err
	}
	return &cairnv1.DrainResponse{Report: rep}, nil
}
