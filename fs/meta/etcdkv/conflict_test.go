package etcdkv_test

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/cairn-storage/cairn/fs/meta"
	"github.com/cairn-storage/cairn/fs/meta/etcdkv"
)

// twoClients returns two KVs on the same prefix of the three-member
// cluster, each with its own connection to a different member: two cairn
// processes on two nodes.
func twoClients(t *testing.T) (*etcdkv.KV, *etcdkv.KV) {
	members := sharedCluster(t, 3)
	prefix := freshPrefix()
	return openKV(t, members[:1], prefix), openKV(t, members[2:], prefix)
}

// scanKeys lists the keys of [start, end) read with r.
func scanKeys(r meta.Reader, start, end string) ([]string, error) {
	var keys []string
	var e []byte
	if end != "" {
		e = []byte(end)
	}
	err := r.Scan([]byte(start), e, func(k, _ []byte) error {
		keys = append(keys, string(k))
		return nil
	})
	return keys, err
}

// A read-modify-write on one client conflicts with a commit made on the
// other between the read and the commit, and runs again.
func TestConflictAcrossClients(t *testing.T) {
	a, b := twoClients(t)
	put(t, a, "n", "1")
	runs := 0
	err := a.Update(t.Context(), func(tx meta.Txn) error {
		runs++
		v, err := tx.Get([]byte("n"))
		if err != nil {
			return err
		}
		if runs == 1 {
			put(t, b, "n", "10")
		}
		n, _ := strconv.Atoi(string(v))
		return tx.Set([]byte("n"), []byte(strconv.Itoa(n+1)))
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 {
		t.Errorf("fn ran %d times; want 2", runs)
	}
	wantValue(t, b, "n", "11")

	// Reading a key as missing conflicts with its creation.
	runs = 0
	err = a.Update(t.Context(), func(tx meta.Txn) error {
		runs++
		if _, err := tx.Get([]byte("lock")); err == nil {
			return nil // taken: do nothing
		}
		if runs == 1 {
			put(t, b, "lock", "b")
		}
		return tx.Set([]byte("lock"), []byte("a"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 {
		t.Errorf("fn ran %d times; want 2", runs)
	}
	wantValue(t, a, "lock", "b")
}

// Counters incremented from both clients at once lose no update.
func TestConcurrentClients(t *testing.T) {
	a, b := twoClients(t)
	const perWorker = 15
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, kv := range []*etcdkv.KV{a, b, a, b} {
		wg.Go(func() {
			for range perWorker {
				err := kv.Update(t.Context(), func(tx meta.Txn) error {
					n := 0
					if v, err := tx.Get([]byte("c")); err == nil {
						n, _ = strconv.Atoi(string(v))
					} else if !errors.Is(err, meta.ErrNotFound) {
						return err
					}
					return tx.Set([]byte("c"), []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	wantValue(t, a, "c", strconv.Itoa(4*perWorker))
}

// A transaction that decides on what a Scan found (here: a directory is
// empty) conflicts with an insert into the scanned range by another client,
// although it read no key that the insert changed.
func TestPhantomInsert(t *testing.T) {
	a, b := twoClients(t)
	put(t, a, "dir", "inode", "dir0", "after the range")
	runs := 0
	err := a.Update(t.Context(), func(tx meta.Txn) error {
		runs++
		keys, err := scanKeys(tx, "dir/", "dir0")
		if err != nil {
			return err
		}
		if runs == 1 {
			put(t, b, "dir/new", "x")
		}
		if len(keys) == 0 {
			return tx.Delete([]byte("dir")) // rmdir
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 {
		t.Errorf("fn ran %d times; want 2 (the insert must conflict)", runs)
	}
	wantValue(t, b, "dir", "inode")
}

// Deleting a key that a Scan visited conflicts too.
func TestPhantomDelete(t *testing.T) {
	a, b := twoClients(t)
	put(t, a, "dir/a", "1", "dir/b", "2")
	runs := 0
	var seen []string
	err := a.Update(t.Context(), func(tx meta.Txn) error {
		runs++
		var err error
		if seen, err = scanKeys(tx, "dir/", "dir0"); err != nil {
			return err
		}
		if runs == 1 {
			if err := b.Update(t.Context(), func(tx meta.Txn) error { return tx.Delete([]byte("dir/b")) }); err != nil {
				return err
			}
		}
		return tx.Set([]byte("count"), []byte(strconv.Itoa(len(seen))))
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 {
		t.Errorf("fn ran %d times; want 2 (the delete must conflict)", runs)
	}
	wantValue(t, b, "count", "1")
}

// A Scan stopped early guards only what it visited: changes past the key
// it stopped at do not conflict, changes before it do.
func TestScanStopGuardsVisitedPart(t *testing.T) {
	a, b := twoClients(t)
	put(t, a, "d/b", "1", "d/d", "2", "d/f", "3")
	firstKey := func(tx meta.Txn) (string, error) {
		var first string
		err := tx.Scan([]byte("d/"), []byte("d0"), func(k, _ []byte) error {
			first = string(k)
			return meta.ErrStop
		})
		return first, err
	}
	for _, tt := range []struct {
		key, value string
		runs       int
	}{
		{"d/z", "new after", 1},  // past the visited part
		{"d/d", "changed", 1},    // likewise
		{"d/a", "new before", 2}, // inside it
		{"d/a", "changed", 2},    // the first key itself
	} {
		runs := 0
		err := a.Update(t.Context(), func(tx meta.Txn) error {
			runs++
			first, err := firstKey(tx)
			if err != nil {
				return err
			}
			if runs == 1 {
				put(t, b, tt.key, tt.value)
			}
			return tx.Set([]byte("first"), []byte(first))
		})
		if err != nil {
			t.Fatal(err)
		}
		if runs != tt.runs {
			t.Errorf("after setting %s: fn ran %d times; want %d", tt.key, runs, tt.runs)
		}
	}
}

// A transaction's Scan, over many pages, merges its own writes: new keys,
// replaced values and deletions, before, between and after stored keys.
func TestScanMergesOwnWrites(t *testing.T) {
	kv := openKV(t, sharedCluster(t, 1), "")
	const n = 3000 // several pages
	key := func(i int) string { return fmt.Sprintf("k%05d", i) }
	err := kv.Update(t.Context(), func(tx meta.Txn) error {
		for i := 0; i < n; i += 2 { // even keys stored
			if err := tx.Set([]byte(key(i)), []byte("stored")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = kv.Update(t.Context(), func(tx meta.Txn) error {
		want := map[string]string{}
		for i := 0; i < n; i += 2 {
			want[key(i)] = "stored"
		}
		for i := 0; i < n; i += 7 {
			switch i % 3 {
			case 0:
				_ = tx.Set([]byte(key(i)), []byte("own"))
				want[key(i)] = "own"
			case 1:
				_ = tx.Delete([]byte(key(i)))
				delete(want, key(i))
			}
		}
		_ = tx.Set([]byte("a"), []byte("before"))
		_ = tx.Set([]byte("z"), []byte("after"))
		got := map[string]string{}
		prev := ""
		err := tx.Scan([]byte("k"), []byte("l"), func(k, v []byte) error {
			if string(k) <= prev {
				t.Errorf("Scan out of order: %q after %q", k, prev)
			}
			prev = string(k)
			got[string(k)] = string(v)
			return nil
		})
		if err != nil {
			return err
		}
		if len(got) != len(want) {
			t.Errorf("Scan saw %d keys; want %d", len(got), len(want))
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("Scan: %s = %q; want %q", k, got[k], v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
