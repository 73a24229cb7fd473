package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/cluster/peers"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fs/meta/badgerkv"
)

// A snapshot cut on one node holds a write another node's client had
// only buffered: the cutting node freezes every other member (a storage
// node and a gateway) through the serf query before it cuts.
func TestClusterFreezeFlushesOtherNodes(t *testing.T) {
	ctx := context.Background()
	tc := newTestCluster(t, make([]string, 2), clusterOpts{replicas: 2})
	gw := tc.add("gw", "", peers.RoleGateway)
	tc.waitMembers(3)
	kv, err := badgerkv.Open(filepath.Join(t.TempDir(), "meta"), badgerkv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	// One shared namespace, one FS per node as in one process per node.
	open := func(tn *testNode) *fs.FS {
		f, err := fs.New(kv, tn.node.Store(), fs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close(ctx) })
		tn.node.SetFreezer(f.FreezeVolumes)
		return f
	}
	cutter, writer := open(tc.nodes[0]), open(gw)
	open(tc.nodes[1]) // holds nothing: answers at once
	if _, err := cutter.CreateVolume(ctx, "db", fs.VolumeConfig{}); err != nil {
		t.Fatal(err)
	}
	vol, err := cutter.OpenVolume(ctx, "db")
	if err != nil {
		t.Fatal(err)
	}
	defer vol.Close(ctx)
	wv, err := writer.OpenVolume(ctx, "db")
	if err != nil {
		t.Fatal(err)
	}
	defer wv.Close(ctx)
	a, err := wv.Mknod(ctx, nil, fs.RootIno, "wal", syscall.S_IFREG|0o644, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, err := wv.Open(ctx, nil, a.Ino, syscall.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release(ctx)
	rec := []byte("commit 42: acknowledged by write(2) on the gateway\n")
	if _, err := h.Write(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}

	cut := func(opts fs.SnapshotOptions) []byte {
		cuts, err := cutter.Snapshot(ctx, []*fs.Volume{vol}, opts)
		if err != nil {
			t.Fatal(err)
		}
		name := fs.TreeVolumeName("db", fmt.Sprint(time.Now().UnixNano()))
		view, err := cutter.OpenTreeVolume(ctx, name, cuts[0].Root, cuts[0].MaxIno)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { view.Close(ctx); cutter.DeleteTreeVolume(ctx, name) }()
		a, err := view.Lookup(ctx, nil, fs.RootIno, "wal")
		if err != nil {
			t.Fatal(err)
		}
		rh, err := view.Open(ctx, nil, a.Ino, syscall.O_RDONLY)
		if err != nil {
			t.Fatal(err)
		}
		defer rh.Release(ctx)
		buf := make([]byte, a.Size)
		n, err := rh.Read(ctx, buf, 0)
		if err != nil {
			t.Fatal(err)
		}
		return buf[:n]
	}
	if got := cut(fs.SnapshotOptions{}); len(got) != 0 {
		t.Fatalf("a cut without the cluster freeze holds %q: the test shows nothing", got)
	}
	start := time.Now()
	got := cut(fs.SnapshotOptions{Freeze: tc.nodes[0].node.FreezeVolumes})
	if !bytes.Equal(got, rec) {
		t.Fatalf("cut holds %q, want %q", got, rec)
	}
	t.Logf("cluster-wide freeze and cut took %v", time.Since(start))
	// Thawed: the gateway writes again at once.
	done := make(chan error, 1)
	go func() { _, err := h.Write(ctx, []byte("commit 43\n"), int64(len(rec))); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the gateway's writes are still held after the cut")
	}
}

// A member that refuses the freeze fails it, with its name and reason,
// and the members that had frozen are thawed.
func TestClusterFreezeRefused(t *testing.T) {
	tc := newTestCluster(t, make([]string, 3), clusterOpts{})
	var mu sync.Mutex
	var held []string
	for _, tn := range tc.nodes[1:] {
		tn.node.SetFreezer(func(ctx context.Context, ids []uint64) (func(), error) {
			if !slices.Equal(ids, []uint64{7, 9}) {
				return nil, fmt.Errorf("asked for %v", ids)
			}
			if tn.name == "n2" {
				return nil, errors.New("flush failed: disk full")
			}
			mu.Lock()
			held = append(held, tn.name)
			mu.Unlock()
			return func() {
				mu.Lock()
				held = slices.DeleteFunc(held, func(s string) bool { return s == tn.name })
				mu.Unlock()
			}, nil
		})
	}
	_, err := tc.nodes[0].node.FreezeVolumes(t.Context(), []uint64{7, 9})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("n2: flush failed: disk full")) {
		t.Fatalf("freeze error %v, want n2's refusal", err)
	}
	waitFor(t, 10*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(held) != 0 {
			return fmt.Errorf("still frozen: %v", held)
		}
		return nil
	})
}
