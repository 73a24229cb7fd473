package metatest

import (
	"errors"
	"testing"

	"github.com/cairn-storage/cairn/fs/meta"
)

var scanData = []pair{
	{"a", "1"}, {"ab", "2"}, {"abc", "3"}, {"abd", "4"}, {"b", "5"}, {"ba", "6"}, {"c", "7"},
}

func testScan(t *testing.T, kv meta.KV) {
	set(t, kv, scanData...)
	b := func(s string) []byte { return []byte(s) }
	tests := []struct {
		name       string
		start, end []byte
		want       []pair
	}{
		{"all", nil, nil, scanData},
		{"empty start", b(""), nil, scanData},
		{"from existing key", b("ab"), nil, scanData[1:]},
		{"from between keys", b("abcc"), nil, scanData[3:]},
		{"end is exclusive", b("a"), b("abd"), scanData[:3]},
		{"end between keys", nil, b("az"), scanData[:4]},
		{"start after last", b("d"), nil, nil},
		{"end before first", nil, b("0"), nil},
		{"start equals end", b("ab"), b("ab"), nil},
		{"start after end", b("b"), b("a"), nil},
		{"single key", b("b"), b("b\x00"), scanData[4:5]},
		{"empty range between keys", b("abe"), b("az"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantPairs(t, "View", viewScan(t, kv, tt.start, tt.end), tt.want)
			var got []pair
			err := kv.Update(t.Context(), func(tx meta.Txn) error {
				var err error
				got, err = scan(tx, tt.start, tt.end)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			wantPairs(t, "Update", got, tt.want)
		})
	}
}

func testScanPrefix(t *testing.T, kv meta.KV) {
	set(t, kv, scanData...)
	set(t, kv, pair{"x\xff", "8"}, pair{"x\xff\xff", "9"}, pair{"y", "10"}, pair{"\xff", "11"}, pair{"\xff\xff\x00", "12"})
	tests := []struct {
		prefix string
		want   []pair
	}{
		{"a", scanData[:4]},
		{"ab", scanData[1:4]},
		{"abc", scanData[2:3]},
		{"b", scanData[4:6]},
		{"bz", nil},
		{"x", []pair{{"x\xff", "8"}, {"x\xff\xff", "9"}}},
		{"x\xff", []pair{{"x\xff", "8"}, {"x\xff\xff", "9"}}},
		{"\xff", []pair{{"\xff", "11"}, {"\xff\xff\x00", "12"}}},
		{"\xff\xff", []pair{{"\xff\xff\x00", "12"}}},
	}
	for _, tt := range tests {
		p := []byte(tt.prefix)
		wantPairs(t, "prefix "+tt.prefix, viewScan(t, kv, p, meta.PrefixEnd(p)), tt.want)
	}
}

func testScanStop(t *testing.T, kv meta.KV) {
	set(t, kv, scanData...)
	for _, n := range []int{1, 3, len(scanData)} {
		var got []pair
		err := kv.View(t.Context(), func(r meta.Reader) error {
			return r.Scan(nil, nil, func(k, v []byte) error {
				got = append(got, pair{string(k), string(v)})
				if len(got) == n {
					return meta.ErrStop
				}
				return nil
			})
		})
		if err != nil {
			t.Errorf("Scan stopped after %d keys returned %v; want nil", n, err)
		}
		wantPairs(t, "Scan stopped", got, scanData[:n])
	}
}

func testScanError(t *testing.T, kv meta.KV) {
	set(t, kv, scanData...)
	calls := 0
	err := kv.View(t.Context(), func(r meta.Reader) error {
		return r.Scan(nil, nil, func(k, v []byte) error {
			calls++
			if calls == 2 {
				return errBoom
			}
			return nil
		})
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("View = %v; want the callback's error", err)
	}
	if calls != 2 {
		t.Errorf("callback ran %d times after failing; want it to stop at 2", calls)
	}
}

// A Scan callback may read other keys through the same Reader.
func testScanNestedGet(t *testing.T, kv meta.KV) {
	set(t, kv, pair{"dir/a", "ino/1"}, pair{"dir/b", "ino/2"}, pair{"ino/1", "file a"}, pair{"ino/2", "file b"})
	var got []string
	err := kv.View(t.Context(), func(r meta.Reader) error {
		prefix := []byte("dir/")
		return r.Scan(prefix, meta.PrefixEnd(prefix), func(k, v []byte) error {
			ino, err := r.Get(v)
			if err != nil {
				return err
			}
			got = append(got, string(ino))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "file a" || got[1] != "file b" {
		t.Errorf("nested gets = %q", got)
	}
}

// Deleting (and setting) keys while scanning them in the same transaction
// works: the usual way to remove a subtree.
func testDeleteDuringScan(t *testing.T, kv meta.KV) {
	set(t, kv, scanData...)
	err := kv.Update(t.Context(), func(tx meta.Txn) error {
		prefix := []byte("a")
		return tx.Scan(prefix, meta.PrefixEnd(prefix), func(k, v []byte) error {
			if err := tx.Delete(k); err != nil {
				return err
			}
			return tx.Set(append([]byte("moved/"), k...), v)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []pair{{"b", "5"}, {"ba", "6"}, {"c", "7"},
		{"moved/a", "1"}, {"moved/ab", "2"}, {"moved/abc", "3"}, {"moved/abd", "4"}}
	wantPairs(t, "after moving a*", viewScan(t, kv, nil, nil), want)
}
