package metatest

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/cairn-storage/cairn/fs/meta"
)

// Values just under 1 MiB, the largest that every engine must accept, are
// stored and read back intact, also by Scan.
func testLargeValue(t *testing.T, kv meta.KV) {
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 1<<20-1)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	medium := big[:100<<10]
	for _, v := range [][]byte{big, medium, big} {
		err := kv.Update(t.Context(), func(tx meta.Txn) error {
			if err := tx.Set([]byte("before"), []byte("x")); err != nil {
				return err
			}
			if err := tx.Set([]byte("big"), v); err != nil {
				return err
			}
			return tx.Set([]byte("bigger"), []byte("y"))
		})
		if err != nil {
			t.Fatalf("Update(%d byte value): %v", len(v), err)
		}
		err = kv.View(t.Context(), func(r meta.Reader) error {
			got, err := r.Get([]byte("big"))
			if err != nil {
				return err
			}
			if !bytes.Equal(got, v) {
				t.Errorf("Get returned %d bytes that differ from the %d written", len(got), len(v))
			}
			var keys []string
			err = r.Scan(nil, nil, func(k, val []byte) error {
				keys = append(keys, string(k))
				if string(k) == "big" && !bytes.Equal(val, v) {
					t.Errorf("Scan returned %d bytes that differ from the %d written", len(val), len(v))
				}
				return nil
			})
			if len(keys) != 3 {
				t.Errorf("Scan keys = %q", keys)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Keys are arbitrary bytes, ordered bytewise (unsigned).
func testBinaryKeys(t *testing.T, kv meta.KV) {
	sorted := []string{
		"\x00", "\x00\x00", "\x00\x01", "\x01", "a", "a\x00", "a\x00\x00", "a\x01",
		"a\x7f", "a\x80", "a\xfe", "a\xff", "a\xff\x00", "a\xff\xff", "b", "\x7f",
		"\x80", "\xfe\xff", "\xff", "\xff\x00", "\xff\xff", "\xff\xff\xff",
	}
	var all []pair
	for i := len(sorted) - 1; i >= 0; i-- { // insert in reverse order
		set(t, kv, pair{sorted[i], sorted[i] + "-v"})
	}
	for _, k := range sorted {
		all = append(all, pair{k, k + "-v"})
	}
	wantPairs(t, "Scan all", viewScan(t, kv, nil, nil), all)
	for i, k := range sorted {
		wantValue(t, kv, k, k+"-v")
		p := []byte(k)
		// Everything with prefix k follows k directly in sorted order.
		j := i + 1
		for j < len(sorted) && bytes.HasPrefix([]byte(sorted[j]), p) {
			j++
		}
		wantPairs(t, "prefix "+k, viewScan(t, kv, p, meta.PrefixEnd(p)), all[i:j])
		wantPairs(t, "from "+k, viewScan(t, kv, p, nil), all[i:])
		wantPairs(t, "until "+k, viewScan(t, kv, nil, p), all[:i])
	}
}

// A transaction bigger than the engine accepts fails with ErrTooBig and
// commits nothing. An engine that accepts the whole (32 MiB, 64 Ki-key)
// transaction also passes.
func testTooBig(t *testing.T, kv meta.KV) {
	const keys = 64 << 10
	value := make([]byte, 512)
	key := func(i int) []byte { return []byte{'t', byte(i >> 16), byte(i >> 8), byte(i)} }
	err := kv.Update(t.Context(), func(tx meta.Txn) error {
		for i := range keys {
			if err := tx.Set(key(i), value); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		t.Logf("engine committed %d keys in one transaction", keys)
		return
	}
	if !errors.Is(err, meta.ErrTooBig) {
		t.Fatalf("oversized Update = %v; want nil or ErrTooBig", err)
	}
	wantPairs(t, "after the failed transaction", viewScan(t, kv, nil, nil), nil)
}

func testPrefixEnd(t *testing.T) {
	tests := []struct {
		prefix, want []byte
	}{
		{nil, nil},
		{[]byte{}, nil},
		{[]byte("a"), []byte("b")},
		{[]byte("abc"), []byte("abd")},
		{[]byte("a\x00"), []byte("a\x01")},
		{[]byte("a\xfe"), []byte("a\xff")},
		{[]byte("a\xff"), []byte("b")},
		{[]byte("a\xff\xff"), []byte("b")},
		{[]byte("\x00"), []byte("\x01")},
		{[]byte("\x00\xff"), []byte("\x01")},
		{[]byte("\xfe\xff"), []byte("\xff")},
		{[]byte("\xff"), nil},
		{[]byte("\xff\xff\xff"), nil},
	}
	for _, tt := range tests {
		in := bytes.Clone(tt.prefix)
		got := meta.PrefixEnd(in)
		if !bytes.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("PrefixEnd(%q) = %q; want %q", tt.prefix, got, tt.want)
		}
		if !bytes.Equal(in, tt.prefix) {
			t.Errorf("PrefixEnd(%q) modified its argument to %q", tt.prefix, in)
		}
		if got != nil && len(in) > 0 && &got[0] == &in[0] {
			t.Errorf("PrefixEnd(%q) aliases its argument", tt.prefix)
		}
	}
}
