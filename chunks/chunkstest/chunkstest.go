// Package chunkstest is the conformance suite for chunks.Store
// implementations: every store (local, cached, clustered) runs Test, so
// consumers can rely on the contracts written in package chunks.
package chunkstest

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
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

func testPutGetStat(t *testing.T, s chunks.Store) {
	tests := []struct {
		name string
		data []byte
		opts chunks.PutOptions
	}{
		{"empty", nil, chunks.PutOptions{}},
		{"one byte", []byte{42}, chunks.PutOptions{}},
		{"4KiB random", Random(4<<10, 1), chunks.PutOptions{}},
		{"1MiB random", Random(1<<20, 2), chunks.PutOptions{}},
		{"1MiB random, compress asked", Random(1<<20, 3), chunks.PutOptions{Compress: true}},
		{"300KiB text", Text(300 << 10), chunks.PutOptions{}},
		{"300KiB text, compress", Text(300<<10 + 1), chunks.PutOptions{Compress: true}},
		{"1MiB zeros, compress", make([]byte, 1<<20), chunks.PutOptions{Compress: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := bytes.Clone(tt.data)
			id := put(t, s, buf, tt.opts)
			// The store must not keep the caller's buffer.
			for i := range buf {
				buf[i] ^= 0xff
			}
			mustGet(t, s, id, tt.data)
			info, err := s.Stat(t.Context(), id)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			if info.ID != id || info.Size != int64(len(tt.data)) || info.Stored <= 0 {
				t.Errorf("Stat = %+v, want ID %s, Size %d, Stored > 0", info, id, len(tt.data))
			}
			if err := s.Sync(t.Context()); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			mustGet(t, s, id, tt.data)
			if again, err := s.Stat(t.Context(), id); err != nil || again != info {
				t.Errorf("Stat after Sync = %+v, %v; want %+v", again, err, info)
			}
		})
	}
}

func testPutIsIdempotent(t *testing.T, s chunks.Store) {
	data := Text(100 << 10)
	id := put(t, s, data, chunks.PutOptions{})
	put(t, s, data, chunks.PutOptions{Compress: true})
	if err := s.Sync(t.Context()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	put(t, s, data, chunks.PutOptions{})
	mustGet(t, s, id, data)
	if st := stats(t, s); st.Chunks != 1 || st.PlainBytes != int64(len(data)) {
		t.Errorf("Stats after 3 Puts of one chunk = %+v, want 1 chunk of %d bytes", st, len(data))
	}
	if n := len(walkAll(t, s)); n != 1 {
		t.Errorf("Walk found %d chunks, want 1", n)
	}
}

func testPutWrongID(t *testing.T, s chunks.Store) {
	data, other := Random(1000, 4), Random(1000, 5)
	err := s.Put(t.Context(), chunks.Sum(other), data, chunks.PutOptions{})
	if !errors.Is(err, chunks.ErrIDMismatch) {
		t.Fatalf("Put with the wrong ID: error = %v, want ErrIDMismatch", err)
	}
	mustBeMissing(t, s, chunks.Sum(other))
	mustBeMissing(t, s, chunks.Sum(data))
}

func testNotFound(t *testing.T, s chunks.Store) {
	id := chunks.Sum([]byte("never stored"))
	mustBeMissing(t, s, id)
	if err := s.Delete(t.Context(), id); err != nil {
		t.Errorf("Delete of a missing chunk: %v", err)
	}
}

// putSet stores n chunks of assorted sizes, syncing half way so stores
// with a write-back stage hold chunks in both states. It returns them.
func putSet(t *testing.T, s chunks.Store, n int, seed uint64) map[chunks.ID][]byte {
	t.Helper()
	set := make(map[chunks.ID][]byte, n)
	for i := range n {
		data := Random(int(seed+uint64(i))%5000*37, seed+uint64(i))
		if i%3 == 0 {
			data = Text(len(data))
		}
		set[put(t, s, data, chunks.PutOptions{Compress: i%2 == 0})] = data
		if i == n/2 {
			if err := s.Sync(t.Context()); err != nil {
				t.Fatalf("Sync: %v", err)
			}
		}
	}
	return set
}

func testWalk(t *testing.T, s chunks.Store) {
	set := putSet(t, s, 40, 100)
	got := walkAll(t, s)
	if len(got) != len(set) {
		t.Errorf("Walk found %d chunks, want %d", len(got), len(set))
	}
	for id, data := range set {
		info, ok := got[id]
		if !ok {
			t.Errorf("Walk missed %s", id)
			continue
		}
		if info.Size != int64(len(data)) || info.Stored <= 0 {
			t.Errorf("Walk: %+v, want Size %d, Stored > 0", info, len(data))
		}
	}
}

func testWalkStops(t *testing.T, s chunks.Store) {
	putSet(t, s, 10, 200)
	stop := errors.New("stop")
	calls := 0
	err := s.Walk(t.Context(), func(chunks.Info) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Walk with a failing fn: error = %v after %d calls, want %v after 1", err, calls, stop)
	}
}

func testDelete(t *testing.T, s chunks.Store) {
	synced, pending, kept := Random(3000, 6), Text(5000), Random(10, 7)
	ids := []chunks.ID{put(t, s, synced, chunks.PutOptions{}), put(t, s, kept, chunks.PutOptions{})}
	if err := s.Sync(t.Context()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	ids = append(ids, put(t, s, pending, chunks.PutOptions{Compress: true}))
	for _, id := range []chunks.ID{ids[0], ids[2]} {
		if err := s.Delete(t.Context(), id); err != nil {
			t.Fatalf("Delete(%s): %v", id, err)
		}
		mustBeMissing(t, s, id)
		if err := s.Delete(t.Context(), id); err != nil {
			t.Errorf("second Delete(%s): %v", id, err)
		}
	}
	if err := s.Sync(t.Context()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if got := walkAll(t, s); len(got) != 1 || got[ids[1]].ID != ids[1] {
		t.Errorf("Walk after Delete = %v, want only %s", got, ids[1])
	}
	if st := stats(t, s); st.Chunks != 1 || st.PlainBytes != int64(len(kept)) {
		t.Errorf("Stats after Delete = %+v, want 1 chunk of %d bytes", st, len(kept))
	}
	mustGet(t, s, ids[1], kept)
	put(t, s, synced, chunks.PutOptions{}) // a deleted chunk can come back
	mustGet(t, s, ids[0], synced)
}

func testStats(t *testing.T, s chunks.Store) {
	if st := stats(t, s); st != (chunks.Stats{}) {
		t.Errorf("Stats of an empty store = %+v", st)
	}
	set := putSet(t, s, 30, 300)
	var want chunks.Stats
	for id, data := range set {
		info, err := s.Stat(t.Context(), id)
		if err != nil {
			t.Fatalf("Stat(%s): %v", id, err)
		}
		want.Chunks++
		want.PlainBytes += int64(len(data))
		want.StoredBytes += info.Stored
	}
	if got := stats(t, s); got != want {
		t.Errorf("Stats = %+v, want %+v (from Stat)", got, want)
	}
	if err := s.Sync(t.Context()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if got := stats(t, s); got != want {
		t.Errorf("Stats after Sync = %+v, want %+v", got, want)
	}
}

// testConcurrent has goroutines put overlapping chunks (so the same ID is
// often put twice at once), read, stat, sync and finally delete them.
func testConcurrent(t *testing.T, s chunks.Store) {
	const workers, n = 8, 24
	data := make([][]byte, n)
	for i := range data {
		data[i] = Random(1000+i*997, uint64(400+i))
	}
	ctx := t.Context()
	run := func(fn func(w, i int) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, workers*n)
		for w := range workers {
			wg.Go(func() {
				for k := range n {
					if err := fn(w, (w*7+k)%n); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
	run(func(w, i int) error {
		id := chunks.Sum(data[i])
		if err := s.Put(ctx, id, data[i], chunks.PutOptions{Compress: w%2 == 0}); err != nil {
			return err
		}
		got, err := s.Get(ctx, id)
		if err == nil && !bytes.Equal(got, data[i]) {
			err = errors.New("get returned different data")
		}
		if err == nil {
			_, err = s.Stat(ctx, id)
		}
		if err == nil && i%5 == 0 {
			err = s.Sync(ctx)
		}
		return err
	})
	if st := stats(t, s); st.Chunks != n {
		t.Errorf("Stats.Chunks = %d after concurrent puts, want %d", st.Chunks, n)
	}
	run(func(w, i int) error {
		id := chunks.Sum(data[i])
		if i%2 == 0 {
			return s.Delete(ctx, id)
		}
		_, err := s.Get(ctx, id)
		return err
	})
	if st := stats(t, s); st.Chunks != n/2 {
		t.Errorf("Stats.Chunks = %d after deleting half, want %d", st.Chunks, n/2)
	}
	if err := s.Sync(context.WithoutCancel(ctx)); err != nil {
		t.Errorf("Sync: %v", err)
	}
}
