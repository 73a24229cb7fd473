package chunks_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/chunks/chunkstest"
)

// recount counts a store's chunks by walking it.
func recount(t *testing.T, s *chunks.Local) chunks.Stats {
	t.Helper()
	var st chunks.Stats
	err := s.Walk(t.Context(), func(info chunks.Info) error {
		st.Chunks++
		st.PlainBytes += info.Size
		st.StoredBytes += info.Stored
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestCountsAcrossOpens checks the counters a clean Close records: the
// next open takes them (and removes the record, so that a crash means a
// recount), they stay exact through puts and deletes, and a record that
// can't be trusted (garbage, or chunks left in tmp/ by a crash) is
// ignored for a recount.
func TestCountsAcrossOpens(t *testing.T) {
	dir := t.TempDir()
	counts := filepath.Join(dir, "counts.json")
	s, err := chunks.OpenLocal(dir, chunks.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []chunks.ID
	for i := range 20 {
		data := chunkstest.Random(1000+i*100, uint64(i))
		id := chunks.Sum(data)
		ids = append(ids, id)
		if err := s.Put(t.Context(), id, data, chunks.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(counts); err != nil {
		t.Fatalf("a clean close left no counts: %v", err)
	}

	reopen := func(what string) *chunks.Local {
		t.Helper()
		s, err := chunks.OpenLocal(dir, chunks.LocalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(counts); !os.IsNotExist(err) {
			t.Fatalf("%s: the counts record outlives the open (%v): a crash would keep stale counts", what, err)
		}
		got, err := s.Stats(t.Context())
		if want := recount(t, s); err != nil || got != want {
			t.Fatalf("%s: Stats = %+v, %v; a walk counts %+v", what, got, err, want)
		}
		return s
	}
	s = reopen("after a clean close")
	if err := s.Delete(t.Context(), ids[0]); err != nil {
		t.Fatal(err)
	}
	data := chunkstest.Random(5000, 99)
	if err := s.Put(t.Context(), chunks.Sum(data), data, chunks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = reopen("after puts and deletes")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for what, setup := range map[string]func(){
		"a garbage record": func() { os.WriteFile(counts, []byte("{not json"), 0o600) },
		"chunks left in tmp/": func() {
			os.WriteFile(counts, []byte(`{"Chunks":999,"PlainBytes":1,"StoredBytes":1}`), 0o600)
			os.WriteFile(filepath.Join(dir, "tmp", "torn"), []byte("CRN1"), 0o600)
		},
	} {
		setup()
		s = reopen(what)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
