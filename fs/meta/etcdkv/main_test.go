package etcdkv_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/fs/meta"
	"github.com/cairn-storage/cairn/fs/meta/etcdkv"
)

// quiet shows etcd's errors only: members of a cluster being torn down
// warn about each other.
var quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

// shared holds the clusters used by most tests, each test under its own
// prefix: one of one member and one of three, started on first use and
// stopped by TestMain.
var shared struct {
	mu       sync.Mutex
	dir      string
	clusters map[int][]*etcdkv.Embedded
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, c := range shared.clusters {
		for _, mem := range c {
			mem.Close()
		}
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// sharedCluster returns the shared cluster of n members.
func sharedCluster(t testing.TB, n int) []*etcdkv.Embedded {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if c := shared.clusters[n]; c != nil {
		return c
	}
	if shared.dir == "" {
		dir, err := os.MkdirTemp("", "etcdkv-test-")
		if err != nil {
			t.Fatal(err)
		}
		shared.dir, shared.clusters = dir, map[int][]*etcdkv.Embedded{}
	}
	c, err := startCluster(filepath.Join(shared.dir, strconv.Itoa(n)), n)
	if err != nil {
		t.Fatalf("shared cluster of %d: %v", n, err)
	}
	shared.clusters[n] = c
	return c
}

// newCluster starts an n-member cluster that the test stops when it ends.
func newCluster(t testing.TB, n int) []*etcdkv.Embedded {
	t.Helper()
	members, err := startCluster(t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, m := range members {
			m.Close()
		}
	})
	return members
}

// startCluster starts n members on free loopback ports, in parallel since
// each waits for a quorum. Ports are found free and then bound, so another
// process may take one in between: then it tries again with new ones.
func startCluster(dir string, n int) ([]*etcdkv.Embedded, error) {
	var err error
	for try := range 3 {
		ports, perr := freePorts(2 * n)
		if perr != nil {
			return nil, perr
		}
		names, peers := make([]string, n), make([]string, n)
		for i := range n {
			names[i] = "m" + strconv.Itoa(i)
			peers[i] = fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1])
		}
		members, errs := make([]*etcdkv.Embedded, n), make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				members[i], errs[i] = etcdkv.StartEmbedded(etcdkv.EmbedConfig{
					Name:           names[i],
					Dir:            filepath.Join(dir, fmt.Sprintf("try%d", try), names[i]),
					ClientURL:      fmt.Sprintf("http://127.0.0.1:%d", ports[2*i]),
					PeerURL:        peers[i],
					InitialCluster: etcdkv.InitialCluster(names, peers),
					StartTimeout:   30 * time.Second,
					UnsafeNoFsync:  true,
					Logger:         quiet,
				})
			})
		}
		wg.Wait()
		if err = errors.Join(errs...); err == nil {
			return members, nil
		}
		for _, m := range members {
			if m != nil {
				m.Close()
			}
		}
	}
	return nil, err
}

func freePorts(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

var prefixes atomic.Int64

// freshPrefix returns a prefix no other test uses.
func freshPrefix() string { return fmt.Sprintf("/test/%d/", prefixes.Add(1)) }

// openKV opens a KV on the members' endpoints under prefix (a fresh one
// if ""), closed when the test ends.
func openKV(t testing.TB, members []*etcdkv.Embedded, prefix string) *etcdkv.KV {
	t.Helper()
	cfg, err := members[0].ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Endpoints = nil
	for _, m := range members {
		cfg.Endpoints = append(cfg.Endpoints, m.Endpoints()...)
	}
	cfg.Prefix = prefix
	if prefix == "" {
		cfg.Prefix = freshPrefix()
	}
	cfg.Logger = quiet
	kv, err := etcdkv.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kv.Close() })
	return kv
}

func put(t testing.TB, kv meta.KV, pairs ...string) {
	t.Helper()
	err := kv.Update(t.Context(), func(tx meta.Txn) error {
		for i := 0; i < len(pairs); i += 2 {
			if err := tx.Set([]byte(pairs[i]), []byte(pairs[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update(put): %v", err)
	}
}

func get(t testing.TB, kv meta.KV, key string) (string, bool) {
	t.Helper()
	var v []byte
	err := kv.View(t.Context(), func(r meta.Reader) error {
		var err error
		v, err = r.Get([]byte(key))
		return err
	})
	if errors.Is(err, meta.ErrNotFound) {
		return "", false
	}
	if err != nil {
		t.Fatalf("View(get %q): %v", key, err)
	}
	return string(v), true
}

func wantValue(t testing.TB, kv meta.KV, key, want string) {
	t.Helper()
	if got, ok := get(t, kv, key); !ok || got != want {
		t.Errorf("Get(%q) = %q, found=%v; want %q", key, got, ok, want)
	}
}
