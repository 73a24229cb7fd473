package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/cluster"
)

// clusterDaemons is a cluster of storage daemons (`cairn server`
// processes) on 127.0.0.1, each with a namespace of its own (badger):
// the cluster commands need chunks and gossip, not a shared namespace.
type clusterDaemons struct {
	data  []string // data directories, by node
	rpc   []string // chunk RPC addresses, by node
	admin string   // the admin bundle of `cluster init`
}

// startClusterDaemons starts nodes n1..nN with R=3 and a repair loop
// that scans every 3 s: often enough for a drain to finish soon, seldom
// enough for two status calls to fall between two scans.
func startClusterDaemons(t *testing.T, n int) *clusterDaemons {
	t.Helper()
	dir := t.TempDir()
	var names []string
	for i := 1; i <= n; i++ {
		names = append(names, fmt.Sprintf("n%d", i))
	}
	pki := filepath.Join(dir, "pki")
	runClusterCLI(t, "cluster", "init", "--out", pki, "--nodes", strings.Join(names, ","))
	cd := &clusterDaemons{admin: filepath.Join(pki, "admin")}
	var seed string
	for _, name := range names {
		data, gossip, rpc := filepath.Join(dir, name), freeAddr(t), freeAddr(t)
		args := []string{"--data", data, "server", "--no-nfs", "--node-name", name, "--tls-dir", filepath.Join(pki, name),
			"--bind", gossip, "--rpc-listen", rpc, "--zone", "z-" + name, "--capacity", "1GiB",
			"--repair-interval", "3s", "--settle", "200ms"}
		if seed != "" {
			args = append(args, "--join", seed)
		}
		startCairn(t, name+".log", args...)
		waitAPI(t, &tour{t: t, data: data})
		seed = gossip
		cd.data, cd.rpc = append(cd.data, data), append(cd.rpc, rpc)
	}
	return cd
}

// direct is the flags that make a cluster command ask node i directly.
func (cd *clusterDaemons) direct(i int) []string {
	return []string{"--addr", cd.rpc[i], "--tls-dir", cd.admin}
}

// clusterJSON runs `cairn cluster ARGS --json` through the daemon of data
// and decodes what it printed into v.
func clusterJSON(t *testing.T, data string, v any, args ...string) {
	t.Helper()
	r := runResult(t, data, append(append([]string{"cluster"}, args...), "--json"))
	if r.code != 0 {
		t.Fatalf("cairn cluster %s --json: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("cairn cluster %s --json: %v in %q", strings.Join(args, " "), err, r.stdout)
	}
}

// statusByName is `cluster status --json` through the daemon of data.
func statusByName(t *testing.T, data string) map[string]clusterStatusRow {
	t.Helper()
	var rows []clusterStatusRow
	clusterJSON(t, data, &rows, "status")
	m := map[string]clusterStatusRow{}
	for _, r := range rows {
		m[r.Name] = r
	}
	return m
}

// sameBothWays runs `cairn cluster ARGS` through the daemon of data and
// with direct, and fails unless both print and exit the same. The repair
// loops' counters move between calls, so a comparison counts only when
// two direct runs around the daemon's agree (nothing moved in between).
func sameBothWays(t *testing.T, data string, direct []string, args ...string) result {
	t.Helper()
	args = append([]string{"cluster"}, args...)
	deadline := time.Now().Add(2 * time.Minute)
	for try := 1; ; try++ {
		before := runResult(t, data, append(slices.Clone(args), direct...))
		daemon := runResult(t, data, args)
		after := runResult(t, data, append(slices.Clone(args), direct...))
		if before == after {
			if daemon != before {
				t.Fatalf("cairn %s through the daemon: %+v\ndirectly: %+v", strings.Join(args, " "), daemon, before)
			}
			if try > 1 {
				t.Logf("cairn %s: the same both ways (compared on try %d)", strings.Join(args, " "), try)
			}
			return daemon
		}
		if time.Now().After(deadline) {
			t.Fatalf("cairn %s never printed the same twice in a row:\n%+v\n%+v", strings.Join(args, " "), before, after)
		}
	}
}

// TestClusterThroughDaemon runs `cairn cluster members|status|drain`
// through the node daemon of a real two-node cluster, against the same
// commands asking the node directly (--addr, --tls-dir): the same output,
// JSON and exit codes; a drain and its cancel through the daemon.
func TestClusterThroughDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts two daemons")
	}
	cd := startClusterDaemons(t, 2)
	n1 := cd.data[0]
	waitFor(t, func() bool {
		var ms []cluster.Member
		clusterJSON(t, n1, &ms, "members")
		return len(ms) == 2 && ms[0].Status == "alive" && ms[1].Status == "alive" && ms[0].Placement && ms[1].Placement
	})
	// A snapshot writes a chunk, which both nodes get (R is capped at 2).
	if r := runResult(t, n1, []string{"snapshot", "create", "default", "s1"}); r.code != 0 {
		t.Fatalf("snapshot create: %+v", r)
	}
	waitFor(t, func() bool {
		st := statusByName(t, n1)
		return len(st) == 2 && st["n1"].Report != nil && st["n1"].Report.Local.Chunks > 0 &&
			st["n2"].Report != nil && st["n2"].Report.Local.Chunks > 0
	})

	for _, args := range [][]string{{"members"}, {"members", "--json"}, {"status"}, {"status", "--json"}} {
		r := sameBothWays(t, n1, cd.direct(0), args...)
		if r.code != 0 || !strings.Contains(r.stdout, "n2") {
			t.Fatalf("cairn cluster %v: %+v", args, r)
		}
	}
	if r := sameBothWays(t, n1, cd.direct(0), "status"); !strings.Contains(r.stdout, "z-n2") ||
		!strings.Contains(r.stdout, "1.0 GiB") || !strings.Contains(r.stdout, "R=3 is capped") {
		t.Fatalf("cluster status:\n%s", r.stdout)
	}
	for _, args := range [][]string{{"drain", "n9"}, {"drain", "--cancel", "n2"}, {"drain"}} {
		sameBothWays(t, n1, cd.direct(0), args...)
	}

	// Drain n2 through n1's daemon; then n1 holds every chunk.
	r := runResult(t, n1, []string{"cluster", "drain", "n2"})
	if r.code != 0 || !strings.Contains(r.stdout, "n2 is drained") {
		t.Fatalf("drain n2 through the daemon: %+v", r)
	}
	st := statusByName(t, n1)
	if rep := st["n2"].Report; !st["n2"].Draining || rep == nil || !rep.Drained || rep.Local.Chunks != 0 {
		t.Fatalf("n2 after its drain: %+v", st["n2"])
	}
	if out := sameBothWays(t, n1, cd.direct(0), "members").stdout; !strings.Contains(out, "alive,draining") {
		t.Fatalf("members while n2 drains:\n%s", out)
	}
	r = runResult(t, n1, []string{"cluster", "drain", "--cancel", "n2"})
	if r.code != 0 || r.stdout != "n2 is no longer draining\n" {
		t.Fatalf("drain --cancel n2 through the daemon: %+v", r)
	}
	waitFor(t, func() bool {
		var ms []cluster.Member
		clusterJSON(t, n1, &ms, "members")
		i := slices.IndexFunc(ms, func(m cluster.Member) bool { return m.Name == "n2" })
		return i >= 0 && !ms[i].Draining && ms[i].Placement
	})

	// The daemon's own node, through its daemon.
	r = runResult(t, n1, []string{"cluster", "drain", "--no-wait", "n1"})
	if r.code != 0 || !strings.Contains(r.stdout, "n1 is draining") {
		t.Fatalf("drain --no-wait n1 through its own daemon: %+v", r)
	}
	waitFor(t, func() bool { return statusByName(t, n1)["n1"].Draining })
	if r = runResult(t, n1, []string{"cluster", "drain", "--cancel", "n1"}); r.code != 0 {
		t.Fatalf("drain --cancel n1: %+v", r)
	}
	waitFor(t, func() bool { return !statusByName(t, n1)["n1"].Draining })
}

// TestClusterCommandErrors checks what `cairn cluster status|members|
// drain` say when they have no cluster to ask: no daemon and no --addr,
// --addr without a bundle, and a daemon that is a single node.
func TestClusterCommandErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts a daemon")
	}
	empty, single := t.TempDir(), t.TempDir()
	startCairn(t, "single.log", "--data", single, "server", "--no-nfs")
	waitAPI(t, &tour{t: t, data: single})
	tests := []struct {
		name, data string
		args       []string // after --data
		want       []string // in what it prints on stderr
	}{
		{"no daemon", empty, []string{"cluster", "status"}, []string{"no cairn daemon is running", "--addr HOST:7947 --tls-dir BUNDLE"}},
		{"no daemon, members", empty, []string{"cluster", "members"}, []string{"no cairn daemon is running", "cluster members"}},
		{"no daemon, drain", empty, []string{"cluster", "drain", "n1"}, []string{"no cairn daemon is running", "--addr"}},
		{"--addr alone", empty, []string{"cluster", "status", "--addr", "127.0.0.1:7947"}, []string{"--addr needs --tls-dir"}},
		{"--cluster", empty, []string{"--cluster", "127.0.0.1:7946", "cluster", "status"}, []string{"instead of --cluster, pass --addr"}},
		{"single node", single, []string{"cluster", "status"}, []string{"is not part of a cluster", "--addr HOST:7947 --tls-dir BUNDLE"}},
		{"single node, members", single, []string{"cluster", "members", "--json"}, []string{"is not part of a cluster"}},
		{"single node, drain", single, []string{"cluster", "drain", "n1"}, []string{"is not part of a cluster"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runResult(t, tc.data, tc.args)
			if r.code != 1 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q; want 1 and nothing", r.code, r.stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q lacks %q", r.stderr, w)
				}
			}
		})
	}
}
