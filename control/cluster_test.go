package control_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/control/client"
)

// TestClusterSingleNode: a daemon that is not in a cluster says so.
func TestClusterSingleNode(t *testing.T) {
	d := startDaemon(t)
	for name, call := range map[string]func() error{
		"status": func() error {
			_, err := d.api.Cluster.ClusterStatus(ctx(t), &cairnv1.ClusterStatusRequest{})
			return err
		},
		"drain": func() error {
			_, err := d.api.Cluster.Drain(ctx(t), &cairnv1.DrainRequest{Node: "n1"})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := call()
			wantCode(t, err, codes.FailedPrecondition)
			if s, _ := status.FromError(err); s.Message() != "this daemon is not part of a cluster" {
				t.Fatalf("message %q", s.Message())
			}
		})
	}
}

// fakeCluster is a ClusterAdmin of two storage nodes and a gateway that
// records the drains it is asked for.
type fakeCluster struct {
	drains []string
	fail   error
}

func (f *fakeCluster) Members(context.Context) ([]*cairnv1.Member, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	return []*cairnv1.Member{
		{Name: "n1", Role: control.RoleStorage, State: "alive", Report: &cairnv1.NodeReport{Chunks: 3}},
		{Name: "n2", Role: control.RoleStorage, State: "failed"},
		{Name: "gw", Role: control.RoleGateway, State: "alive"},
	}, nil
}

func (f *fakeCluster) Drain(_ context.Context, node string, cancel bool) (*cairnv1.NodeReport, error) {
	if cancel {
		node = "-" + node
	}
	f.drains = append(f.drains, node)
	return &cairnv1.NodeReport{Chunks: 3, Drained: cancel}, nil
}

// serveControl serves a control server of cfg on a unix socket, as the
// daemon does, until the test ends.
func serveControl(t *testing.T, cfg control.Config) *client.Client {
	t.Helper()
	dir, err := os.MkdirTemp("", "cairn-ctl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l, err := control.ListenUnix(control.SocketPath(dir), "")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(control.ServerOptions()...)
	control.New(cfg).Register(g)
	go g.Serve(l)
	api, err := client.Find(ctx(t), control.SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close(); g.Stop() })
	return api
}

// TestClusterService checks status and drain over a cluster: the node
// to drain must be a storage member.
func TestClusterService(t *testing.T) {
	fake := &fakeCluster{}
	api := serveControl(t, control.Config{Cluster: fake})
	drain := func(r *cairnv1.DrainRequest) func(t *testing.T) error {
		return func(t *testing.T) error {
			resp, err := api.Cluster.Drain(ctx(t), r)
			if err == nil && resp.GetReport().GetChunks() != 3 {
				t.Fatalf("report %v", resp.GetReport())
			}
			return err
		}
	}
	cases := []struct {
		name   string
		call   func(t *testing.T) error
		code   codes.Code
		drains int // drains the cluster received after the call
	}{
		{name: "status", code: codes.OK, call: func(t *testing.T) error {
			resp, err := api.Cluster.ClusterStatus(ctx(t), &cairnv1.ClusterStatusRequest{})
			if m := resp.GetMembers(); err == nil && (len(m) != 3 || m[0].GetReport().GetChunks() != 3) {
				t.Fatalf("members %v", m)
			}
			return err
		}},
		{name: "drain", call: drain(&cairnv1.DrainRequest{Node: "n1"}), code: codes.OK, drains: 1},
		{name: "cancel a down node's drain", call: drain(&cairnv1.DrainRequest{Node: "n2", Cancel: true}), code: codes.OK, drains: 2},
		{name: "no node", call: drain(&cairnv1.DrainRequest{}), code: codes.InvalidArgument, drains: 2},
		{name: "unknown node", call: drain(&cairnv1.DrainRequest{Node: "n9"}), code: codes.NotFound, drains: 2},
		{name: "gateway", call: drain(&cairnv1.DrainRequest{Node: "gw"}), code: codes.FailedPrecondition, drains: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, tc.call(t), tc.code)
			if len(fake.drains) != tc.drains {
				t.Fatalf("drains %v, want %d", fake.drains, tc.drains)
			}
		})
	}
	if fake.drains[0] != "n1" || fake.drains[1] != "-n2" {
		t.Fatalf("drains %v, want n1 started, n2 cancelled", fake.drains)
	}
	fake.fail = errors.New("gossip is down")
	_, err := api.Cluster.ClusterStatus(ctx(t), &cairnv1.ClusterStatusRequest{})
	wantCode(t, err, codes.Internal)
}
