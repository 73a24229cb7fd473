package chunks_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/chunks/chunkstest"
)

// openLocal opens a Local store in dir, closed at the end of the test.
func openLocal(t *testing.T, dir string, opts chunks.LocalOptions) *chunks.Local {
	t.Helper()
	s, err := chunks.OpenLocal(dir, opts)
	if err != nil {
		t.Fatalf("OpenLocal: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestLocal(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "compress"}[compress], func(t *testing.T) {
			chunkstest.Test(t, func(t *testing.T) chunks.Store {
				return openLocal(t, t.TempDir(), chunks.LocalOptions{Compress: compress})
			})
		})
	}
}

// chunkPath is where Local keeps a synced chunk.
func chunkPath(dir string, id chunks.ID) string {
	h := id.String()
	return filepath.Join(dir, "chunks", h[:2], h[2:4], h)
}

func readDirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestLocalLayoutAndSync(t *testing.T) {
	dir := t.TempDir()
	s := openLocal(t, dir, chunks.LocalOptions{})
	data := chunkstest.Random(5000, 1)
	id := chunks.Sum(data)
	if err := s.Put(t.Context(), id, data, chunks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// Before Sync the chunk lives in tmp/ only: a name under chunks/ is
	// given only to data already on disk.
	if _, err := os.Stat(chunkPath(dir, id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("chunk has its final name before Sync (stat error %v)", err)
	}
	if names := readDirNames(t, filepath.Join(dir, "tmp")); len(names) != 1 {
		t.Errorf("tmp/ = %v, want one file", names)
	}
	if err := s.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	frame, err := os.ReadFile(chunkPath(dir, id))
	if err != nil {
		t.Fatalf("after Sync: %v", err)
	}
	if !bytes.HasPrefix(frame, []byte("CRN1\x00")) || !bytes.HasSuffix(frame, data) {
		t.Errorf("chunk file = %q..., want a raw CRN1 frame", frame[:8])
	}
	if names := readDirNames(t, filepath.Join(dir, "tmp")); len(names) != 0 {
		t.Errorf("tmp/ after Sync = %v, want empty", names)
	}
}

func TestLocalReopen(t *testing.T) {
	dir := t.TempDir()
	s := openLocal(t, dir, chunks.LocalOptions{Compress: true})
	set := map[chunks.ID][]byte{}
	for i := range 50 {
		data := chunkstest.Random(100+i*1000, uint64(i))
		if i%2 == 0 {
			data = chunkstest.Text(len(data))
		}
		id := chunks.Sum(data)
		if err := s.Put(t.Context(), id, data, chunks.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		set[id] = data
		if i == 25 {
			if err := s.Sync(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	want, err := s.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Close syncs what was put after the last Sync.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Leftovers of a crash: a torn chunk in tmp/, junk beside the chunks.
	os.WriteFile(filepath.Join(dir, "tmp", "torn"), []byte("CRN1\x00\x80"), 0o600)
	os.WriteFile(filepath.Join(dir, "chunks", "00", "junk"), nil, 0o600)
	os.MkdirAll(filepath.Join(dir, "chunks", "zz", "zz"), 0o700)
	var misplaced chunks.ID
	misplaced[0] = 0xab
	os.WriteFile(filepath.Join(dir, "chunks", "00", "00", misplaced.String()), []byte("x"), 0o600)
	for id := range set { // an upper-case name is not a chunk file
		p := chunkPath(dir, id)
		os.WriteFile(filepath.Join(filepath.Dir(p), strings.ToUpper(id.String())), []byte("x"), 0o600)
		break
	}

	s = openLocal(t, dir, chunks.LocalOptions{})
	if got, err := s.Stats(t.Context()); err != nil || got != want {
		t.Errorf("Stats after reopen = %+v, %v; want %+v", got, err, want)
	}
	for id, data := range set {
		got, err := s.Get(t.Context(), id)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get(%s) after reopen: %v", id, err)
		}
	}
	n := 0
	s.Walk(t.Context(), func(info chunks.Info) error {
		if _, ok := set[info.ID]; !ok {
			t.Errorf("Walk reported %s, which was never put", info.ID)
		}
		n++
		return nil
	})
	if n != len(set) {
		t.Errorf("Walk found %d chunks, want %d", n, len(set))
	}
	if names := readDirNames(t, filepath.Join(dir, "tmp")); len(names) != 0 {
		t.Errorf("tmp/ after open = %v, want empty", names)
	}
}

// TestLocalStatsDuringScan changes the store while the background count
// of a reopened store is running: Stats must still be exact.
func TestLocalStatsDuringScan(t *testing.T) {
	dir := t.TempDir()
	s := openLocal(t, dir, chunks.LocalOptions{})
	var ids []chunks.ID
	for i := range 300 {
		data := chunkstest.Random(10+i, uint64(i))
		ids = append(ids, chunks.Sum(data))
		s.Put(t.Context(), ids[i], data, chunks.PutOptions{})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openLocal(t, dir, chunks.LocalOptions{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 100 {
			data := chunkstest.Random(20000+i, uint64(1000+i))
			s.Put(t.Context(), chunks.Sum(data), data, chunks.PutOptions{})
			if i%10 == 0 {
				s.Sync(t.Context())
			}
		}
		s.Sync(t.Context())
	})
	wg.Go(func() {
		for _, id := range ids[:150] {
			if err := s.Delete(t.Context(), id); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	var want chunks.Stats
	s.Walk(t.Context(), func(info chunks.Info) error {
		want.Chunks++
		want.PlainBytes += info.Size
		want.StoredBytes += info.Stored
		return nil
	})
	if got, err := s.Stats(t.Context()); err != nil || got != want {
		t.Errorf("Stats = %+v, %v; want %+v (from Walk)", got, err, want)
	}
	if want.Chunks != 250 {
		t.Errorf("Walk found %d chunks, want 250", want.Chunks)
	}
}

func TestLocalExclusive(t *testing.T) {
	dir := t.TempDir()
	s := openLocal(t, dir, chunks.LocalOptions{})
	s2, err := chunks.OpenLocal(dir, chunks.LocalOptions{})
	if err == nil {
		s2.Close()
		t.Fatal("second OpenLocal of an open store succeeded")
	}
	if !errors.Is(err, chunks.ErrInUse) { // datadir waits on ErrInUse only
		t.Errorf("second OpenLocal = %v; want ErrInUse", err)
	}
	s.Close()
	openLocal(t, dir, chunks.LocalOptions{})
}

func TestLocalClosed(t *testing.T) {
	s := openLocal(t, t.TempDir(), chunks.LocalOptions{})
	s.Close()
	data := []byte("late")
	if err := s.Put(t.Context(), chunks.Sum(data), data, chunks.PutOptions{}); err == nil {
		t.Error("Put after Close succeeded")
	}
	if _, err := s.Get(t.Context(), chunks.Sum(data)); err == nil {
		t.Error("Get after Close succeeded")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestLocalPutTooLarge(t *testing.T) {
	s := openLocal(t, t.TempDir(), chunks.LocalOptions{})
	data := make([]byte, chunks.MaxSize+1)
	if err := s.Put(t.Context(), chunks.Sum(data), data, chunks.PutOptions{}); !errors.Is(err, chunks.ErrTooLarge) {
		t.Errorf("Put of %d bytes: error = %v, want ErrTooLarge", len(data), err)
	}
}

// BenchmarkLocalPut measures Put of distinct 1 MiB chunks with a Sync
// every 16 chunks, as a writer flushing every 16 MiB would.
func BenchmarkLocalPut(b *testing.B) {
	for _, compress := range []bool{false, true} {
		b.Run(map[bool]string{false: "raw", true: "zstd"}[compress], func(b *testing.B) {
			s, err := chunks.OpenLocal(b.TempDir(), chunks.LocalOptions{Compress: compress})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			data := chunkstest.Text(1 << 20)
			b.SetBytes(int64(len(data)))
			i := 0
			for b.Loop() {
				i++
				copy(data, fmt.Sprint(i)) // a new chunk each time
				if err := s.Put(b.Context(), chunks.Sum(data), data, chunks.PutOptions{}); err != nil {
					b.Fatal(err)
				}
				if i%16 == 0 {
					if err := s.Sync(b.Context()); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
