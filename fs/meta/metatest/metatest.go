// Package metatest is the conformance suite that every meta.KV engine must
// pass. An engine's tests call Test with a function that opens a fresh,
// empty store:
//
//	func TestConformance(t *testing.T) {
//		metatest.Test(t, func(t *testing.T) meta.KV { ... })
//	}
//
// The suite closes each store it opens. Some tests start a second
// transaction from inside a running one (to provoke a conflict at a chosen
// point), so engines must not hold locks across a transaction's callback.
package metatest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/cairn-storage/cairn/fs/meta"
)

// Test runs the whole suite; open must return a new, empty store.
func Test(t *testing.T, open func(t *testing.T) meta.KV) {
	tests := []struct {
		name string
		fn   func(t *testing.T, kv meta.KV)
	}{
		{"GetSetDelete", testGetSetDelete},
		{"NotFound", testNotFound},
		{"EmptyValue", testEmptyValue},
		{"SetCopiesArguments", testSetCopiesArguments},
		{"GetResultOutlivesTxn", testGetResultOutlivesTxn},
		{"Scan", testScan},
		{"ScanPrefix", testScanPrefix},
		{"ScanStop", testScanStop},
		{"ScanError", testScanError},
		{"ScanNestedGet", testScanNestedGet},
		{"DeleteDuringScan", testDeleteDuringScan},
		{"ReadOwnWrites", testReadOwnWrites},
		{"Rollback", testRollback},
		{"Isolation", testIsolation},
		{"ConflictRetry", testConflictRetry},
		{"WriteSkew", testWriteSkew},
		{"PersistentConflict", testPersistentConflict},
		{"ConcurrentCounter", testConcurrentCounter},
		{"Canceled", testCanceled},
		{"LargeValue", testLargeValue},
		{"BinaryKeys", testBinaryKeys},
		{"TooBig", testTooBig},
		{"Sync", testSync},
		{"PrefixEnd", func(t *testing.T, _ meta.KV) { testPrefixEnd(t) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := open(t)
			t.Cleanup(func() {
				if err := kv.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, kv)
		})
	}
}

// pair is a key and its value, as strings for readable failures.
type pair struct{ k, v string }

func set(t *testing.T, kv meta.KV, pairs ...pair) {
	t.Helper()
	err := kv.Update(t.Context(), func(tx meta.Txn) error {
		for _, p := range pairs {
			if err := tx.Set([]byte(p.k), []byte(p.v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update(set %d keys): %v", len(pairs), err)
	}
}

// get reads key in a View; ok is false if it is missing.
func get(t *testing.T, kv meta.KV, key string) (value string, ok bool) {
	t.Helper()
	err := kv.View(t.Context(), func(r meta.Reader) error {
		v, err := r.Get([]byte(key))
		if errors.Is(err, meta.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		value, ok = string(v), true
		return nil
	})
	if err != nil {
		t.Fatalf("View(get %q): %v", key, err)
	}
	return value, ok
}

func wantValue(t *testing.T, kv meta.KV, key, want string) {
	t.Helper()
	if got, ok := get(t, kv, key); !ok || got != want {
		t.Errorf("Get(%q) = %q, found=%v; want %q", key, got, ok, want)
	}
}

func wantMissing(t *testing.T, kv meta.KV, key string) {
	t.Helper()
	if got, ok := get(t, kv, key); ok {
		t.Errorf("Get(%q) = %q; want not found", key, got)
	}
}

// scan returns the pairs of [start, end) read with r.
func scan(r meta.Reader, start, end []byte) ([]pair, error) {
	var got []pair
	err := r.Scan(start, end, func(k, v []byte) error {
		got = append(got, pair{string(k), string(v)})
		return nil
	})
	return got, err
}

func viewScan(t *testing.T, kv meta.KV, start, end []byte) []pair {
	t.Helper()
	var got []pair
	err := kv.View(t.Context(), func(r meta.Reader) error {
		var err error
		got, err = scan(r, start, end)
		return err
	})
	if err != nil {
		t.Fatalf("Scan(%q, %q): %v", start, end, err)
	}
	return got
}

func equalPairs(a, b []pair) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func wantPairs(t *testing.T, what string, got, want []pair) {
	t.Helper()
	if !equalPairs(got, want) {
		t.Errorf("%s:\n got  %s\n want %s", what, fmtPairs(got), fmtPairs(want))
	}
}

func fmtPairs(ps []pair) string {
	var b bytes.Buffer
	for i, p := range ps {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%q=%q", p.k, p.v)
	}
	return "[" + b.String() + "]"
}

var errBoom = errors.New("boom")
