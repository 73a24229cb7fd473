// Package chunkstest is the conformance suite for chunks.Store
// implementations: every store (local, cached, clustered) runs Test, so
// consumers can rely on the contracts written in package chunks.
package chunkstest

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/cairn-storage/cairn/chunks"
)

// Test runs the suite. open must return a new, empty store for each
// subtest; Test closes it (Close may be called again by open's cleanup).
func Test(t *testing.T, open func(t *testing.T) chunks.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, chunks.Store)
	}{
		{"PutGetStat", testPutGetStat},
		{"PutIsIdempotent", testPutIsIdempotent},
		{"PutWrongID", testPutWrongID},
		{"NotFound", testNotFound},
		{"Walk", testWalk},
		{"WalkStops", testWalkStops},
		{"Delete", testDelete},
		{"Stats", testStats},
		{"Concurrent", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

// Random returns n pseudo-random (incompressible) bytes derived from seed.
func Random(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 0xc4a1))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// Text returns n bytes of compressible text.
func Text(n int) []byte {
	line := []byte("the quick brown fox jumps over the lazy cairn\n")
	return bytes.Repeat(line, n/len(line)+1)[:n]
}

// put stores data and returns its ID, failing the test on error.
func put(t *testing.T, s chunks.Store, data []byte, opts chunks.PutOptions) chunks.ID {
	t.Helper()
	id := chunks.Sum(data)
	if err := s.Put(t.Context(), id, data, opts); err != nil {
		t.Fatalf("Put(%s, %d bytes): %v", id, len(data), err)
	}
	return id
}

// mustGet checks that chunk id reads back as want.
func mustGet(t *testing.T, s chunks.Store, id chunks.ID, want []byte) {
	t.Helper()
	got, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%s) = %d bytes, want %d bytes (equal: false)", id, len(got), len(want))
	}
}

// mustBeMissing checks that Get and Stat of id report ErrNotFound.
func mustBeMissing(t *testing.T, s chunks.Store, id chunks.ID) {
	t.Helper()
	if _, err := s.Get(t.Context(), id); !errors.Is(err, chunks.ErrNotFound) {
		t.Errorf("Get(%s) error = %v, want ErrNotFound", id, err)
	}
	if _, err := s.Stat(t.Context(), id); !errors.Is(err, chunks.ErrNotFound) {
		t.Errorf("Stat(%s) error = %v, want ErrNotFound", id, err)
	}
}

// walkAll returns every chunk Walk reports, failing on duplicates.
func walkAll(t *testing.T, s chunks.Store) map[chunks.ID]chunks.Info {
	t.Helper()
	got := make(map[chunks.ID]chunks.Info)
	err := s.Walk(t.Context(), func(info chunks.Info) error {
		if _, dup := got[info.ID]; dup {
			t.Errorf("Walk reported %s twice", info.ID)
		}
		got[info.ID] = info
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return got
}

func stats(t *testing.T, s chunks.Store) chunks.Stats {
	t.Helper()
	st, err := s.Stats(t.Context())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}
