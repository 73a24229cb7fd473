package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/chunks/chunkstest"
	"github.com/cairn-storage/cairn/cluster"
	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/control/client"
)

// TestClusterAdmin serves the Cluster service of a daemon on ca1 of a
// real two-node cluster on 127.0.0.1, over the control socket (node
// names are the test's own: the nodes' metrics stay registered): status lists
// both nodes with their reports, drain moves a node's chunks away (the
// other node's, then the daemon's own), and unknown nodes are refused.
func TestClusterAdmin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	runClusterCLI(t, "cluster", "init", "--out", dir, "--nodes", "ca1,ca2")
	node := func(name string, join ...string) *cluster.Store {
		args := []string{"--tls-dir", filepath.Join(dir, name), "--node-name", name, "--capacity", "1GiB",
			"--bind", "127.0.0.1:0", "--rpc-listen", "127.0.0.1:0", "--repair-interval", "100ms", "--settle", "200ms"}
		for _, j := range join {
			args = append(args, "--join", j)
		}
		return startClusterNode(t, args...)
	}
	s1 := node("ca1")
	s2 := node("ca2", s1.Node().GossipAddr())
	data := chunkstest.Random(5000, 1)
	if err := s1.Put(t.Context(), chunks.Sum(data), data, chunks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s1.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	admin, err := newClusterAdmin(s1.Node(), filepath.Join(dir, "ca1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	api := serveCluster(t, admin)

	members := waitMembers(t, api, func(m map[string]*cairnv1.Member) bool {
		return m["ca2"].GetReport().GetChunks() == 1 && m["ca1"].GetReport().GetChunks() == 1 &&
			m["ca2"].GetReport().GetRepairLoop().GetScans() > 0
	})
	if m := members["ca2"]; m.GetRole() != "storage" || m.GetState() != "alive" || m.GetCapacity() != 1<<30 ||
		m.GetAddress() == "" || m.GetReport().GetStoredBytes() == 0 || m.GetReport().GetRepair() == "" ||
		!m.GetPlacement() || m.GetVersion() == 0 || m.GetReport().GetSelf().GetName() != "ca2" ||
		m.GetReport().GetRepairLoop().GetLastScan() == nil || m.GetReport().GetPlainBytes() == 0 {
		t.Fatalf("ca2 as the daemon reports it: %v", m)
	}

	_, err = api.Cluster.Drain(t.Context(), &cairnv1.DrainRequest{Node: "ca9"})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("drain of an unknown node: %v, want NotFound", err)
	}
	drain := func(name string, cancel bool) *cairnv1.NodeReport {
		t.Helper()
		resp, err := api.Cluster.Drain(t.Context(), &cairnv1.DrainRequest{Node: name, Cancel: cancel})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetReport().GetConfiguredReplicas() == 0 {
			t.Fatalf("drain report %v", resp.GetReport())
		}
		waitMembers(t, api, func(m map[string]*cairnv1.Member) bool {
			return m[name].GetDraining() != cancel && m[name].GetReport().GetDrained() != cancel
		})
		return resp.GetReport()
	}
	drain("ca2", false)
	if got, err := s2.Get(t.Context(), chunks.Sum(data)); err != nil || len(got) != len(data) {
		t.Fatalf("Get after drain: %v", err)
	}
	drain("ca2", true)
	drain("ca1", false) // the daemon's own node
	drain("ca1", true)
}

// serveCluster serves a control server with admin as its cluster on a
// unix socket until the test ends.
func serveCluster(t *testing.T, admin control.ClusterAdmin) *client.Client {
	t.Helper()
	sock, err := os.MkdirTemp("", "cairn-ca-") // short: a socket path has 104 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sock) })
	l, err := control.ListenUnix(control.SocketPath(sock), "")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(control.ServerOptions()...)
	control.New(control.Config{Cluster: admin}).Register(g)
	go g.Serve(l)
	t.Cleanup(g.Stop)
	api, err := client.Find(t.Context(), control.SocketPath(sock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close() })
	return api
}

// waitMembers polls ClusterStatus until ok holds of the members by name.
func waitMembers(t *testing.T, api *client.Client, ok func(map[string]*cairnv1.Member) bool) map[string]*cairnv1.Member {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := api.Cluster.ClusterStatus(t.Context(), &cairnv1.ClusterStatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]*cairnv1.Member{}
		for _, mem := range resp.GetMembers() {
			m[mem.GetName()] = mem
		}
		if ok(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster status never as expected: %v", resp.GetMembers())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
