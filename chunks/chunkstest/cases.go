package chunkstest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chunks"
)

// The test cases of Test, one per contract.

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
			if info.ID != id || info.Size != int64(len(tt.data)) || info.Stored <= 0 || time.Since(info.ModTime) > time.Minute {
				t.Errorf("Stat = %+v, want ID %s, Size %d, Stored > 0, a recent ModTime", info, id, len(tt.data))
			}
			if err := s.Sync(t.Context()); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			mustGet(t, s, id, tt.data)
			// The file may get its own time when synced; the rest is fixed.
			again, err := s.Stat(t.Context(), id)
			if err == nil && time.Since(again.ModTime) < time.Minute {
				again.ModTime = info.ModTime
			}
			if err != nil || again != info {
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
