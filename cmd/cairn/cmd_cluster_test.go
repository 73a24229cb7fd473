package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/chunks/chunkstest"
	"github.com/cairn-storage/cairn/cluster"
	"github.com/cairn-storage/cairn/datadir"
)

// runClusterCLI runs the CLI in this process with args and returns what
// it printed.
func runClusterCLI(t *testing.T, args ...string) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	err = newApp().Run(append([]string{"cairn"}, args...))
	os.Stdout = stdout
	w.Close()
	out := <-done
	if err != nil {
		t.Fatalf("cairn %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// startClusterNode runs openCluster as `cairn server` would, with args.
func startClusterNode(t *testing.T, args ...string) *cluster.Store {
	t.Helper()
	local, err := chunks.OpenLocal(t.TempDir(), chunks.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b datadir.Backend
	app := &cli.App{Commands: []*cli.Command{{
		Name:  "server",
		Flags: append(clusterFlags(), &cli.StringFlag{Name: "data", Value: t.TempDir()}),
		Action: func(c *cli.Context) (err error) {
			b, err = openCluster(c, local)
			return err
		},
	}}}
	if err := app.Run(append([]string{"cairn", "server"}, args...)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Store.Close()
		b.Stop()
		local.Close()
	})
	return b.Store.(*cluster.Store)
}

// TestClusterCommands makes credentials with `cluster init` and `cluster
// cert`, starts two nodes through the server flags, and checks members,
// status and drain against them.
func TestClusterCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	runClusterCLI(t, "cluster", "init", "--out", dir, "--nodes", "n1,n2")
	runClusterCLI(t, "cluster", "cert", "--ca", dir, "--node", "n3", "--out", filepath.Join(dir, "n3"))
	for _, f := range []string{"ca.crt", "ca.key", "gossip.key", "n1/node.key", "n2/gossip.key", "n3/node.crt", "admin/node.crt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	node := func(name string, join ...string) *cluster.Store {
		args := []string{"--tls-dir", filepath.Join(dir, name), "--node-name", name, "--capacity", "1GiB",
			"--bind", "127.0.0.1:0", "--rpc-listen", "127.0.0.1:0", "--zone", "z-" + name,
			"--repair-interval", "100ms", "--settle", "200ms", "--repair-bandwidth", "100MiB"}
		for _, j := range join {
			args = append(args, "--join", j)
		}
		return startClusterNode(t, args...)
	}
	s1 := node("n1")
	s2 := node("n2", s1.Node().GossipAddr())
	admin := []string{"--addr", s1.Node().RPCAddr(), "--tls-dir", filepath.Join(dir, "admin")}

	members := runClusterCLI(t, append([]string{"cluster", "members"}, admin...)...)
	if !strings.Contains(members, "n1") || !strings.Contains(members, "n2") || !strings.Contains(members, "z-n2") {
		t.Fatalf("members:\n%s", members)
	}
	data := chunkstest.Random(5000, 1)
	if err := s1.Put(t.Context(), chunks.Sum(data), data, chunks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s1.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	status := runClusterCLI(t, append([]string{"cluster", "status"}, admin...)...)
	if !strings.Contains(status, "n2") || !strings.Contains(status, "1.0 GiB") {
		t.Fatalf("status:\n%s", status)
	}
	js := runClusterCLI(t, append([]string{"cluster", "status", "--json"}, admin...)...)
	var rows []struct {
		Name, Status string
		Report       *struct{ Local struct{ Chunks int } }
	}
	if err := json.Unmarshal([]byte(js), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("status --json: %v, want 2 nodes:\n%s", err, js)
	}
	for _, r := range rows {
		if r.Status != "alive" || r.Report == nil || r.Report.Local.Chunks != 1 {
			t.Fatalf("status --json: want each node alive, with its report and the chunk:\n%s", js)
		}
	}
	out := runClusterCLI(t, append(append([]string{"cluster", "drain"}, admin...), "n2")...)
	if !strings.Contains(out, "n2 is drained") {
		t.Fatalf("drain:\n%s", out)
	}
	if got, err := s2.Get(t.Context(), chunks.Sum(data)); err != nil || len(got) != len(data) {
		t.Fatalf("Get after drain: %v", err)
	}
}
