package metatest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/cairn-storage/cairn/fs/meta"
)

func testReadOwnWrites(t *testing.T, kv meta.KV) {
	set(t, kv, pair{"a", "1"}, pair{"b", "2"}, pair{"c", "3"})
	err := kv.Update(t.Context(), func(tx meta.Txn) error {
		for _, op := range []func() error{
			func() error { return tx.Set([]byte("a"), []byte("1'")) },
			func() error { return tx.Set([]byte("bb"), []byte("new")) },
			func() error { return tx.Delete([]byte("c")) },
			func() error { return tx.Set([]byte("d"), []byte("tmp")) },
			func() error { return tx.Set([]byte("d"), []byte("4")) },
		} {
			if err := op(); err != nil {
				return err
			}
		}
		if v, err := tx.Get([]byte("a")); err != nil || string(v) != "1'" {
			t.Errorf("Get(a) = %q, %v; want own write", v, err)
		}
		if v, err := tx.Get([]byte("d")); err != nil || string(v) != "4" {
			t.Errorf("Get(d) = %q, %v; want last own write", v, err)
		}
		if _, err := tx.Get([]byte("c")); !errors.Is(err, meta.ErrNotFound) {
			t.Errorf("Get(c) after own delete = %v; want ErrNotFound", err)
		}
		got, err := scan(tx, nil, nil)
		if err != nil {
			return err
		}
		wantPairs(t, "Scan in txn", got, []pair{{"a", "1'"}, {"b", "2"}, {"bb", "new"}, {"d", "4"}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantPairs(t, "Scan after commit", viewScan(t, kv, nil, nil),
		[]pair{{"a", "1'"}, {"b", "2"}, {"bb", "new"}, {"d", "4"}})
}

func testRollback(t *testing.T, kv meta.KV) {
	set(t, kv, pair{"a", "1"}, pair{"b", "2"})
	err := kv.Update(t.Context(), func(tx meta.Txn) error {
		if err := tx.Set([]byte("a"), []byte("changed")); err != nil {
			return err
		}
		if err := tx.Delete([]byte("b")); err != nil {
			return err
		}
		if err := tx.Set([]byte("c"), []byte("new")); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v; want fn's error", err)
	}
	wantPairs(t, "after rollback", viewScan(t, kv, nil, nil), []pair{{"a", "1"}, {"b", "2"}})
}

// A View reads one point in time: commits made after it starts are
// invisible to it.
func testIsolation(t *testing.T, kv meta.KV) {
	set(t, kv, pair{"a", "1"}, pair{"b", "2"})
	err := kv.View(t.Context(), func(r meta.Reader) error {
		if v, err := r.Get([]byte("a")); err != nil || string(v) != "1" {
			t.Errorf("Get(a) = %q, %v", v, err)
		}
		set(t, kv, pair{"a", "changed"}, pair{"c", "new"})
		err := kv.Update(t.Context(), func(tx meta.Txn) error { return tx.Delete([]byte("b")) })
		if err != nil {
			return err
		}
		if v, err := r.Get([]byte("a")); err != nil || string(v) != "1" {
			t.Errorf("Get(a) after a later commit = %q, %v; want the old value", v, err)
		}
		if v, err := r.Get([]byte("b")); err != nil || string(v) != "2" {
			t.Errorf("Get(b) after a later delete = %q, %v; want the old value", v, err)
		}
		if v, err := r.Get([]byte("c")); !errors.Is(err, meta.ErrNotFound) {
			t.Errorf("Get(c) set by a later commit = %q, %v; want ErrNotFound", v, err)
		}
		got, err := scan(r, nil, nil)
		wantPairs(t, "Scan after later commits", got, []pair{{"a", "1"}, {"b", "2"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantPairs(t, "new View", viewScan(t, kv, nil, nil), []pair{{"a", "changed"}, {"c", "new"}})
}

// When a key that fn read is changed by a commit made while fn runs, the
// commit of fn's writes conflicts and fn runs again on a fresh view.
func testConflictRetry(t *testing.T, kv meta.KV) {
	set(t, kv, pair{"n", "1"})
	runs := 0
	err := kv.Update(t.Context(), func(tx meta.Txn) error {
		runs++
		v, err := tx.Get([]byte("n"))
		if err != nil {
			return err
		}
		if runs == 1 { // a concurrent writer gets in first
			set(t, kv, pair{"n", "10"})
		}
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return err
		}
		return tx.Set([]byte("n"), []byte(strconv.Itoa(n+1)))
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 {
		t.Errorf("fn ran %d times; want 2", runs)
	}
	wantValue(t, kv, "n", "11")
}

// Two transactions that each read both keys and clear one, so that at
// least one stays set, must not both commit (snapshot isolation alone
// would allow it).
func testWriteSkew(t *testing.T, kv meta.KV) {
	set(t, kv, pair{"x", "1"}, pair{"y", "1"})
	clearIfBothSet := func(tx meta.Txn, key string) error {
		x, err := tx.Get([]byte("x"))
		if err != nil {
			return err
		}
		y, err := tx.Get([]byte("y"))
		if err != nil {
			return err
		}
		if string(x) == "1" && string(y) == "1" {
			return tx.Set([]byte(key), []byte("0"))
		}
		return nil
	}
	runs := 0
	err := kv.Update(t.Context(), func(tx meta.Txn) error {
		runs++
		if err := clearIfBothSet(tx, "x"); err != nil {
			return err
		}
		if runs == 1 {
			err := kv.Update(t.Context(), func(tx meta.Txn) error { return clearIfBothSet(tx, "y") })
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, kv, "x", "1")
	wantValue(t, kv, "y", "0")
}

// An Update that conflicts every time gives up with ErrConflict.
func testPersistentConflict(t *testing.T, kv meta.KV) {
	set(t, kv, pair{"k", "0"})
	runs := 0
	err := kv.Update(t.Context(), func(tx meta.Txn) error {
		runs++
		if _, err := tx.Get([]byte("k")); err != nil {
			return err
		}
		set(t, kv, pair{"k", strconv.Itoa(runs)})
		return tx.Set([]byte("k"), []byte("mine"))
	})
	if !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("Update = %v; want ErrConflict", err)
	}
	if runs < 2 {
		t.Errorf("fn ran %d times; want retries", runs)
	}
	wantValue(t, kv, "k", strconv.Itoa(runs))
}

// Concurrent read-modify-write transactions on one key lose no update.
func testConcurrentCounter(t *testing.T, kv meta.KV) {
	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range perWorker {
				err := kv.Update(t.Context(), func(tx meta.Txn) error {
					n := 0
					v, err := tx.Get([]byte("counter"))
					switch {
					case errors.Is(err, meta.ErrNotFound):
					case err != nil:
						return err
					default:
						if n, err = strconv.Atoi(string(v)); err != nil {
							return err
						}
					}
					return tx.Set([]byte("counter"), []byte(strconv.Itoa(n+1)))
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
		t.Errorf("Update: %v", err)
	}
	wantValue(t, kv, "counter", strconv.Itoa(workers*perWorker))
}

// A canceled context fails the call and commits nothing.
func testCanceled(t *testing.T, kv meta.KV) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := kv.Update(ctx, func(tx meta.Txn) error { return tx.Set([]byte("k"), []byte("v")) })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update(canceled) = %v; want context.Canceled", err)
	}
	err = kv.View(ctx, func(r meta.Reader) error {
		_, err := r.Get([]byte("k"))
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("View(canceled) = %v; want context.Canceled", err)
	}
	wantMissing(t, kv, "k")
}
