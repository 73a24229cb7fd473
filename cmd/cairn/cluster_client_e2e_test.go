package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// clusterWriteSize is how much TestClusterClients writes while it kills a
// node; CAIRN_TEST_CLUSTER_WRITE overrides it (bytes).
func clusterWriteSize() int64 {
	if s := os.Getenv("CAIRN_TEST_CLUSTER_WRITE"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return 1 << 30
}

// TestClusterClients runs four storage processes (R=3) and clients that
// join with only --cluster and a bundle: a FUSE mount, and the snapshot
// command in a process of its own. The snapshot holds a write the mount
// had only buffered (the cluster-wide freeze); then a node is killed
// with SIGKILL in the middle of a large write with fsyncs: every byte
// reads back, and repair restores three copies of every chunk on the
// three survivors after the grace period.
func TestClusterClients(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for FUSE mounts")
	}
	tc := startTestCluster(t, 4)
	dir, gossip, client, nodes := tc.dir, tc.gossip, tc.client, tc.nodes
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	// Only a gossip address (not the first node's) and the bundle.
	startCairn(t, "mount.log", "mount", "default", mnt, "--cluster", gossip[2], "--tls-dir", client)
	waitMounted(t, mnt)

	// A record the mount acknowledged but only buffered is in a snapshot
	// cut by another process.
	rec := []byte("order 1001 committed\n")
	f, err := os.Create(filepath.Join(mnt, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(rec); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	tc.cli(t, "snapshot", "create", "default", "s1")
	t.Logf("snapshot by a client process, freezing the cluster: %v", time.Since(start))
	got, err := os.ReadFile(filepath.Join(mnt, ".snapshots", "s1", "journal"))
	if err != nil || !bytes.Equal(got, rec) {
		t.Fatalf("snapshot holds %q (%v), want the buffered record %q", got, err, rec)
	}

	writeThroughKill(t, filepath.Join(mnt, "big"), nodes[3])
	// Repair: after the grace period the three survivors hold every chunk.
	start = time.Now()
	deadline := start.Add(3 * time.Minute)
	for {
		a, b, c := chunkNames(t, dir, "n1"), chunkNames(t, dir, "n2"), chunkNames(t, dir, "n3")
		if len(a) > 0 && slices.Equal(a, b) && slices.Equal(b, c) {
			t.Logf("repair: three copies of all %d chunks %v after the write", len(a), time.Since(start).Round(time.Second))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("repair incomplete: survivors hold %d, %d and %d chunks", len(a), len(b), len(c))
		}
		time.Sleep(time.Second)
	}
	checkClusterPage(t, tc)
}

// checkClusterPage loads the dashboard's cluster page of the first node:
// it lists every member with its state, and its drain button drains a
// node and stops draining it.
func checkClusterPage(t *testing.T, tc *testCluster) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := noRedirects(jar)
	link, err := url.Parse(dashboardLink(t, &tour{t: t, data: filepath.Join(tc.dir, "n1")}))
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + tc.http
	if status, _, _ := uiGet(t, c, base+link.RequestURI()); status != http.StatusSeeOther {
		t.Fatalf("dashboard login link: %d", status)
	}
	page := func(want func(string) bool) string {
		var body string
		waitFor(t, func() bool {
			var status int
			status, _, body = uiGet(t, c, base+"/ui/cluster")
			return status == http.StatusOK && want(body)
		})
		return body
	}
	body := page(func(b string) bool { return strings.Contains(b, ">n4<") })
	for _, want := range []string{"n1", "n2", "n3", "n4", "alive", `aria-label="Drain n2"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the cluster page lacks %q:\n%s", want, body)
		}
	}
	if s := uiPost(t, c, base+"/ui/cluster/n2/drain", url.Values{"csrf": {csrfOf(t, body)}}, ""); s != http.StatusSeeOther {
		t.Fatalf("drain n2 from the dashboard: %d", s)
	}
	draining := func(b string) bool { return strings.Contains(b, `name="cancel" value="true"`) }
	body = page(draining)
	if s := uiPost(t, c, base+"/ui/cluster/n2/drain", url.Values{"csrf": {csrfOf(t, body)}, "cancel": {"true"}}, ""); s != http.StatusSeeOther {
		t.Fatalf("stop draining n2: %d", s)
	}
	page(func(b string) bool { return !draining(b) })
}

// testCluster is a cluster of server processes on 127.0.0.1 with the
// embedded etcd on the first, and a client bundle.
type testCluster struct {
	dir    string
	gossip []string    // gossip addresses, by node
	nodes  []*exec.Cmd // server processes
	client string      // bundle directory for --cluster clients
	etcd   string      // the embedded etcd's client address (TLS)
	http   string      // the first node's HTTP address (metrics, dashboard)
}

// startTestCluster starts n storage processes, R=3, with short repair
// timings.
func startTestCluster(t *testing.T, n int) *testCluster {
	t.Helper()
	tc := &testCluster{dir: t.TempDir()}
	pkiDir := filepath.Join(tc.dir, "pki")
	var names []string
	for i := 1; i <= n; i++ {
		names = append(names, "n"+strconv.Itoa(i))
	}
	if err := newApp().Run([]string{"cairn", "cluster", "init", "--out", pkiDir, "--nodes", strings.Join(names, ","), "--host", "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	tc.client = filepath.Join(tc.dir, "client-bundle")
	if err := newApp().Run([]string{"cairn", "cluster", "cert", "--ca", pkiDir, "--node", "client", "--out", tc.client}); err != nil {
		t.Fatal(err)
	}
	etcdClient := freeAddr(t)
	for i, name := range names {
		tc.gossip = append(tc.gossip, freeAddr(t))
		args := []string{"--data", filepath.Join(tc.dir, name), "server", "--no-nfs",
			"--node-name", name, "--tls-dir", filepath.Join(pkiDir, name), "--bind", tc.gossip[i],
			"--rpc-listen", freeAddr(t), "--replicas", "3", "--grace", "3s",
			"--repair-interval", "500ms", "--settle", "1s"}
		if i == 0 {
			// etcd over mutual TLS with the node's bundle.
			tc.http = freeAddr(t)
			args = append([]string{"--meta", "etcd-embedded"}, append(args, "--etcd-client-url", "https://"+etcdClient,
				"--etcd-peer-url", "http://"+freeAddr(t), "--metrics", tc.http)...)
		} else {
			args = append([]string{"--meta", "etcds://" + etcdClient}, append(args, "--join", tc.gossip[0])...)
		}
		tc.nodes = append(tc.nodes, startCairn(t, name+".log", args...))
		if i == 0 {
			waitVolume(t, tc.dir, etcdClient, filepath.Join(pkiDir, name))
			tc.etcd = etcdClient
		}
	}
	return tc
}

// cli runs a one-shot cairn command as a client of the cluster.
func (tc *testCluster) cli(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := cairnCommand(t, append(args, "--cluster", tc.gossip[len(tc.gossip)-1], "--tls-dir", tc.client)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cairn %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// waitVolume waits until the first node has created the default volume
// (the others open the namespace it founded).
func waitVolume(t *testing.T, dir, etcd, bundle string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		cmd := cairnCommand(t, "--data", filepath.Join(dir, "probe"), "--meta", "etcds://"+etcd, "--tls-dir", bundle, "volume", "info", "default")
		if cmd.Run() == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("the first node did not create the default volume in time")
}

// writeThroughKill writes clusterWriteSize bytes to path with an fsync
// every 32 MiB, kills victim with SIGKILL a third of the way, and checks
// that the whole file reads back.
func writeThroughKill(t *testing.T, path string, victim *exec.Cmd) {
	t.Helper()
	size := clusterWriteSize()
	gen := func() io.Reader { return io.LimitReader(rand.NewChaCha8([32]byte{7}), size) }
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4<<20)
	src := gen()
	var written, synced int64
	killed := false
	start := time.Now()
	for written < size {
		n, _ := io.ReadFull(src, buf)
		if _, err := f.Write(buf[:n]); err != nil {
			t.Fatalf("write at %d (fsync'd %d): %v", written, synced, err)
		}
		written += int64(n)
		if written%(32<<20) == 0 || written == size {
			if err := f.Sync(); err != nil {
				t.Fatalf("fsync at %d: %v", written, err)
			}
			synced = written
		}
		if !killed && written >= size/3 {
			if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
			t.Logf("killed node 4 with SIGKILL at %d MiB (fsync'd %d MiB)", written>>20, synced>>20)
		}
	}
	t.Logf("wrote %d MiB with fsyncs in %v across the kill", size>>20, time.Since(start).Round(time.Millisecond))
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want, got := gen(), make([]byte, len(buf))
	exp := make([]byte, len(buf))
	for off := int64(0); off < size; {
		n, err := io.ReadFull(r, got)
		if err != nil && err != io.ErrUnexpectedEOF {
			t.Fatalf("read back at %d: %v", off, err)
		}
		io.ReadFull(want, exp[:n])
		if !bytes.Equal(got[:n], exp[:n]) {
			t.Fatalf("read back differs in the 4 MiB at %d", off)
		}
		off += int64(n)
	}
}

// chunkNames lists the chunk files of node's data directory.
func chunkNames(t *testing.T, dir, node string) []string {
	t.Helper()
	var names []string
	filepath.Walk(filepath.Join(dir, node, "chunks"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			names = append(names, fi.Name())
		}
		return nil
	})
	slices.Sort(names)
	return names
}
