package fs

import (
	"fmt"
	"net"
	"os"
	"sync"
	"testing"

	"github.com/cairn-storage/cairn/fs/meta"
	"github.com/cairn-storage/cairn/fs/meta/badgerkv"
	"github.com/cairn-storage/cairn/fs/meta/etcdkv"
)

// The filesystem's tests run on badger by default, and on etcd with
// CAIRN_TEST_META=etcd (make test runs both): the same semantics written
// once over the KV interface must hold on every engine.

var (
	etcdOnce    sync.Once
	etcdMember  *etcdkv.Embedded
	etcdErr     error
	etcdPrefix  = map[string]string{} // test data dir -> key prefix
	etcdPrefixN int
	etcdMu      sync.Mutex
)

func useEtcd() bool { return os.Getenv("CAIRN_TEST_META") == "etcd" }

// openTestKV opens the metadata store of a test data directory; reopening
// the same directory finds the same data.
func openTestKV(t testing.TB, dir string) meta.KV {
	t.Helper()
	if !useEtcd() {
		kv, err := badgerkv.Open(dir+"/meta", badgerkv.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return kv
	}
	etcdOnce.Do(startTestEtcd)
	if etcdErr != nil {
		t.Fatalf("embedded etcd: %v", etcdErr)
	}
	etcdMu.Lock()
	prefix, ok := etcdPrefix[dir]
	if !ok {
		etcdPrefixN++
		prefix = fmt.Sprintf("/fstest/%d/", etcdPrefixN)
		etcdPrefix[dir] = prefix
	}
	etcdMu.Unlock()
	cfg, err := etcdMember.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Prefix = prefix
	kv, err := etcdkv.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func startTestEtcd() {
	var ports [2]int
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			etcdErr = err
			return
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	dir, err := os.MkdirTemp("", "cairn-fstest-etcd-")
	if err != nil {
		etcdErr = err
		return
	}
	etcdMember, etcdErr = etcdkv.StartEmbedded(etcdkv.EmbedConfig{
		Dir:           dir,
		ClientURL:     fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
		PeerURL:       fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
		UnsafeNoFsync: true,
	})
}

func TestMain(m *testing.M) {
	code := m.Run()
	if etcdMember != nil {
		etcdMember.Close()
	}
	os.Exit(code)
}
