package metatest

import (
	"errors"
	"testing"

	"github.com/cairn-storage/cairn/fs/meta"
)

func testGetSetDelete(t *testing.T, kv meta.KV) {
	set(t, kv, pair{"a", "1"}, pair{"b", "2"})
	wantValue(t, kv, "a", "1")
	wantValue(t, kv, "b", "2")

	set(t, kv, pair{"a", "one"})
	wantValue(t, kv, "a", "one")

	err := kv.Update(t.Context(), func(tx meta.Txn) error {
		if err := tx.Delete([]byte("a")); err != nil {
			return err
		}
		return tx.Delete([]byte("never-set")) // not an error
	})
	if err != nil {
		t.Fatalf("Update(delete): %v", err)
	}
	wantMissing(t, kv, "a")
	wantValue(t, kv, "b", "2")

	set(t, kv, pair{"a", "again"})
	wantValue(t, kv, "a", "again")
}

func testNotFound(t *testing.T, kv meta.KV) {
	set(t, kv, pair{"present", "x"})
	check := func(where string, r meta.Reader) {
		for _, key := range []string{"absent", "presen", "present\x00", "\x00"} {
			v, err := r.Get([]byte(key))
			if !errors.Is(err, meta.ErrNotFound) {
				t.Errorf("%s: Get(%q) = %q, %v; want ErrNotFound", where, key, v, err)
			}
		}
	}
	if err := kv.View(t.Context(), func(r meta.Reader) error { check("View", r); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := kv.Update(t.Context(), func(tx meta.Txn) error { check("Update", tx); return nil }); err != nil {
		t.Fatal(err)
	}
}

// An empty value is a value, not a missing key.
func testEmptyValue(t *testing.T, kv meta.KV) {
	err := kv.Update(t.Context(), func(tx meta.Txn) error {
		if err := tx.Set([]byte("empty"), []byte{}); err != nil {
			return err
		}
		return tx.Set([]byte("nil"), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, kv, "empty", "")
	wantValue(t, kv, "nil", "")
	wantPairs(t, "Scan", viewScan(t, kv, nil, nil), []pair{{"empty", ""}, {"nil", ""}})
}

// Set's arguments may be reused by the caller as soon as Set returns.
func testSetCopiesArguments(t *testing.T, kv meta.KV) {
	err := kv.Update(t.Context(), func(tx meta.Txn) error {
		k, v := []byte("k1"), []byte("v1")
		if err := tx.Set(k, v); err != nil {
			return err
		}
		copy(k, "k2")
		copy(v, "v2")
		if err := tx.Set(k, v); err != nil {
			return err
		}
		copy(k, "zz")
		copy(v, "zz")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantPairs(t, "Scan", viewScan(t, kv, nil, nil), []pair{{"k1", "v1"}, {"k2", "v2"}})

	err = kv.Update(t.Context(), func(tx meta.Txn) error {
		k := []byte("k1")
		if err := tx.Delete(k); err != nil {
			return err
		}
		copy(k, "k2")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantPairs(t, "Scan after delete", viewScan(t, kv, nil, nil), []pair{{"k2", "v2"}})
}

// Get's result stays valid, and unchanged, after the transaction ends and
// the key is overwritten.
func testGetResultOutlivesTxn(t *testing.T, kv meta.KV) {
	set(t, kv, pair{"k", "original"})
	var fromView, fromUpdate []byte
	err := kv.View(t.Context(), func(r meta.Reader) error {
		var err error
		fromView, err = r.Get([]byte("k"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = kv.Update(t.Context(), func(tx meta.Txn) error {
		var err error
		fromUpdate, err = tx.Get([]byte("k"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	set(t, kv, pair{"k", "replaced"})
	for i := range 100 { // churn to give an engine the chance to reuse buffers
		set(t, kv, pair{"k", "churn"}, pair{string(rune('a' + i%26)), "x"})
	}
	if string(fromView) != "original" || string(fromUpdate) != "original" {
		t.Errorf("values read earlier changed to %q and %q; want %q", fromView, fromUpdate, "original")
	}
}

func testSync(t *testing.T, kv meta.KV) {
	set(t, kv, pair{"k", "v"})
	if err := kv.Sync(t.Context()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	wantValue(t, kv, "k", "v")
}
