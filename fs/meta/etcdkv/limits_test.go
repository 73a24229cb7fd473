package etcdkv_test

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-storage/cairn/fs/meta"
	"github.com/cairn-storage/cairn/fs/meta/etcdkv"
)

// Each limit of etcd on one request is reported as meta.ErrTooBig, and
// nothing is committed.
func TestTooBig(t *testing.T) {
	kv := openKV(t, sharedCluster(t, 1), "")
	key := func(i int) []byte { return fmt.Appendf(nil, "k%06d", i) }
	tests := []struct {
		name string
		fn   func(tx meta.Txn) error
	}{
		{"too many writes", func(tx meta.Txn) error {
			for i := range etcdkv.DefaultMaxTxnOps + 1 {
				if err := tx.Set(key(i), nil); err != nil {
					return err
				}
			}
			return nil
		}},
		{"too many reads", func(tx meta.Txn) error {
			// Every key a Scan visits is compared at commit.
			if err := tx.Scan([]byte("r"), []byte("s"), func(k, v []byte) error { return nil }); err != nil {
				return err
			}
			return tx.Set([]byte("x"), nil)
		}},
		{"request over the server's limit", func(tx meta.Txn) error {
			v := bytes.Repeat([]byte("v"), 600<<10) // 1.8 MiB in all
			for i := range 3 {
				if err := tx.Set(key(i), v); err != nil {
					return err
				}
			}
			return nil
		}},
		{"message over gRPC's limit", func(tx meta.Txn) error {
			return tx.Set([]byte("huge"), make([]byte, 3<<20))
		}},
	}
	// Keys to scan, in two transactions.
	for _, half := range [][2]int{{0, etcdkv.DefaultMaxTxnOps / 2}, {etcdkv.DefaultMaxTxnOps / 2, etcdkv.DefaultMaxTxnOps + 1}} {
		err := kv.Update(t.Context(), func(tx meta.Txn) error {
			for i := half[0]; i < half[1]; i++ {
				if err := tx.Set(fmt.Appendf(nil, "r%06d", i), nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	before, err := viewKeys(t, kv)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := kv.Update(t.Context(), tt.fn)
			if !errors.Is(err, meta.ErrTooBig) {
				t.Fatalf("Update = %v; want ErrTooBig", err)
			}
			keys, err := viewKeys(t, kv)
			if err != nil || len(keys) != len(before) {
				t.Errorf("after a failed Update the store holds %d keys, not %d (%v)", len(keys), len(before), err)
			}
		})
	}
}

func viewKeys(t *testing.T, kv meta.KV) (keys []string, err error) {
	err = kv.View(t.Context(), func(r meta.Reader) error {
		keys, err = scanKeys(r, "", "")
		return err
	})
	return keys, err
}

// A View reads one revision, over many Scan pages and Gets, while another
// client rewrites every key in each of its commits.
func TestViewReadsOneRevision(t *testing.T) {
	a, b := twoClients(t)
	const n = 2000 // over several Scan pages
	write := func(gen int) error {
		return b.Update(t.Context(), func(tx meta.Txn) error {
			for i := range n {
				if err := tx.Set(fmt.Appendf(nil, "k%04d", i), []byte(strconv.Itoa(gen))); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := write(0); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for gen := 1; ; gen++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := write(gen); err != nil {
				t.Error(err)
				return
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()

	for range 5 {
		err := a.View(t.Context(), func(r meta.Reader) error {
			first, err := r.Get([]byte("k0000"))
			if err != nil {
				return err
			}
			seen := 0
			err = r.Scan(nil, nil, func(k, v []byte) error {
				seen++
				if !bytes.Equal(v, first) {
					return fmt.Errorf("%s = %s in a view where k0000 = %s", k, v, first)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if seen != n {
				return fmt.Errorf("Scan saw %d keys; want %d", seen, n)
			}
			if last, err := r.Get(fmt.Appendf(nil, "k%04d", n-1)); err != nil || !bytes.Equal(last, first) {
				return fmt.Errorf("last key = %s, %v; want %s", last, err, first)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// When etcd compacts the revision a transaction reads, an Update runs fn
// again on a fresh revision and a View fails.
func TestCompaction(t *testing.T) {
	members := sharedCluster(t, 1)
	kv := openKV(t, members, "")
	cli, err := clientv3.New(clientv3.Config{Endpoints: members[0].Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	compactNow := func() {
		put(t, kv, "other", "x") // a newer revision to compact up to
		resp, err := cli.Get(t.Context(), "any")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cli.Compact(t.Context(), resp.Header.Revision); err != nil {
			t.Fatal(err)
		}
	}
	put(t, kv, "a", "1", "b", "2")

	runs := 0
	err = kv.Update(t.Context(), func(tx meta.Txn) error {
		runs++
		if _, err := tx.Get([]byte("a")); err != nil {
			return err
		}
		if runs == 1 {
			compactNow()
		}
		v, err := tx.Get([]byte("b"))
		if err != nil {
			return err
		}
		return tx.Set([]byte("c"), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 {
		t.Errorf("fn ran %d times; want 2", runs)
	}
	wantValue(t, kv, "c", "2")

	err = kv.View(t.Context(), func(r meta.Reader) error {
		if _, err := r.Get([]byte("a")); err != nil {
			return err
		}
		compactNow()
		_, err := r.Get([]byte("b"))
		return err
	})
	if !errors.Is(err, rpctypes.ErrCompacted) {
		t.Errorf("View across a compaction = %v; want ErrCompacted", err)
	}
}
