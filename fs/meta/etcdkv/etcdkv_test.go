package etcdkv_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/fs/meta"
	"github.com/cairn-storage/cairn/fs/meta/etcdkv"
	"github.com/cairn-storage/cairn/fs/meta/metatest"
)

// Each store of the suite is a fresh prefix on one shared member.
func TestConformance(t *testing.T) {
	members := sharedCluster(t, 1)
	metatest.Test(t, func(t *testing.T) meta.KV {
		kv := openKV(t, members, "")
		return kv
	})
}

// The suite again on three members, with the client spreading requests
// over them: reads at a pinned revision may land on a member that has not
// applied it yet.
func TestConformanceThreeMembers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-member cluster")
	}
	members := sharedCluster(t, 3)
	metatest.Test(t, func(t *testing.T) meta.KV { return openKV(t, members, "") })
}

// Prefixes keep stores apart, also at the edges of their ranges. (A prefix
// must not be a prefix of another store's, hence the trailing "/".)
func TestPrefixIsolation(t *testing.T) {
	members := sharedCluster(t, 1)
	base := freshPrefix()
	low := openKV(t, members, base+"a./") // "." sorts just before "/"
	a := openKV(t, members, base+"a/")
	high := openKV(t, members, base+"a0/") // "a0" is the end of "a/"
	put(t, low, "\xff\xff", "low")
	put(t, a, "", "a-empty-key", "k", "a", "\xff\xff", "a-high")
	put(t, high, "\x00", "high")
	for _, tt := range []struct {
		kv   *etcdkv.KV
		want int
	}{{low, 1}, {a, 3}, {high, 1}} {
		var n int
		err := tt.kv.View(t.Context(), func(r meta.Reader) error {
			return r.Scan(nil, nil, func(k, v []byte) error { n++; return nil })
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != tt.want {
			t.Errorf("store sees %d keys; want %d", n, tt.want)
		}
	}
	wantValue(t, a, "", "a-empty-key")
	wantValue(t, a, "\xff\xff", "a-high")
	wantValue(t, low, "\xff\xff", "low")
}

func TestClose(t *testing.T) {
	members := sharedCluster(t, 1)
	kv := openKV(t, members, "")
	put(t, kv, "k", "v")
	if err := kv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := kv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx := t.Context()
	if err := kv.View(ctx, func(meta.Reader) error { return nil }); !errors.Is(err, etcdkv.ErrClosed) {
		t.Errorf("View after Close = %v; want ErrClosed", err)
	}
	if err := kv.Update(ctx, func(meta.Txn) error { return nil }); !errors.Is(err, etcdkv.ErrClosed) {
		t.Errorf("Update after Close = %v; want ErrClosed", err)
	}
	if err := kv.Sync(ctx); !errors.Is(err, etcdkv.ErrClosed) {
		t.Errorf("Sync after Close = %v; want ErrClosed", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	kv, err := etcdkv.Open(etcdkv.Config{
		Endpoints:   []string{fmt.Sprintf("http://127.0.0.1:%d", ports[0])},
		DialTimeout: 500 * time.Millisecond,
		Logger:      quiet,
	})
	if err == nil {
		kv.Close()
		t.Fatal("Open of a closed port succeeded")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Open took %v to fail", d)
	}
	if _, err := etcdkv.Open(etcdkv.Config{}); err == nil {
		t.Error("Open without endpoints succeeded")
	}
}

// A request timeout bounds reads that the cluster cannot answer.
func TestRequestTimeout(t *testing.T) {
	members := newCluster(t, 1)
	cfg, err := members[0].ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Prefix, cfg.Logger, cfg.RequestTimeout = freshPrefix(), quiet, 300*time.Millisecond
	kv, err := etcdkv.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	put(t, kv, "k", "v")
	members[0].Close()
	err = kv.View(t.Context(), func(r meta.Reader) error {
		_, err := r.Get([]byte("k"))
		return err
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get from a stopped cluster = %v; want DeadlineExceeded", err)
	}
}

// A View's Reader serves goroutines at once, all at the revision of the
// first read.
func TestViewConcurrentReaders(t *testing.T) {
	kv := openKV(t, sharedCluster(t, 1), "")
	put(t, kv, "k", "1", "l", "1")
	err := kv.View(t.Context(), func(r meta.Reader) error {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Go(func() {
				if i%2 == 0 {
					_, err := r.Get([]byte("k"))
					errs <- err
					return
				}
				errs <- r.Scan(nil, nil, func(k, v []byte) error { return nil })
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				return err
			}
		}
		put(t, kv, "k", "2")
		if v, err := r.Get([]byte("k")); err != nil || string(v) != "1" {
			t.Errorf("Get(k) after a later commit = %q, %v; want 1", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
