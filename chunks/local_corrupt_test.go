package chunks_test

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/chunks/chunkstest"
)

// syncBuffer is a bytes.Buffer for a logger used by several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestLocalCorrupt damages chunk files on disk: Get must report
// ErrCorrupt naming the chunk, log it, and never panic or return data.
func TestLocalCorrupt(t *testing.T) {
	plain := chunkstest.Random(10000, 1)
	text := chunkstest.Text(10000)
	tests := []struct {
		name     string
		data     []byte
		compress bool
		damage   func(frame []byte) []byte
		statErr  bool // the header is damaged, so Stat notices too
	}{
		{"flipped payload bit", plain, false, func(f []byte) []byte { f[len(f)/2] ^= 1; return f }, false},
		{"flipped zstd bit", text, true, func(f []byte) []byte { f[len(f)-5] ^= 0x40; return f }, false},
		{"truncated", plain, false, func(f []byte) []byte { return f[:len(f)-1] }, false},
		{"truncated zstd", text, true, func(f []byte) []byte { return f[:len(f)/2] }, false},
		{"extended", plain, false, func(f []byte) []byte { return append(f, 0) }, false},
		{"empty file", plain, false, func([]byte) []byte { return nil }, true},
		{"garbage", plain, false, func(f []byte) []byte { return chunkstest.Random(len(f), 9) }, true},
		{"bad codec", plain, false, func(f []byte) []byte { f[4] = 7; return f }, true},
		{"other chunk's frame", plain, false, func(f []byte) []byte {
			return append([]byte("CRN1\x00\x03"), "abc"...)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var logs syncBuffer
			s := openLocal(t, dir, chunks.LocalOptions{
				Compress: tt.compress,
				Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
			})
			id := chunks.Sum(tt.data)
			if err := s.Put(t.Context(), id, tt.data, chunks.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := s.Sync(t.Context()); err != nil {
				t.Fatal(err)
			}
			path := chunkPath(dir, id)
			frame, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tt.damage(frame), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(t.Context(), id)
			if !errors.Is(err, chunks.ErrCorrupt) || got != nil {
				t.Fatalf("Get = %d bytes, %v; want ErrCorrupt", len(got), err)
			}
			if !strings.Contains(err.Error(), id.String()) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the chunk and its file", err)
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "id="+id.String()) {
				t.Errorf("log = %q, want an error naming the chunk", logs.String())
			}
			if _, err := s.Stat(t.Context(), id); errors.Is(err, chunks.ErrCorrupt) != tt.statErr {
				t.Errorf("Stat error = %v, want ErrCorrupt: %v", err, tt.statErr)
			}
			// The damaged chunk is still listed (for scrub and GC) and
			// can be deleted.
			n := 0
			s.Walk(t.Context(), func(chunks.Info) error { n++; return nil })
			if n != 1 {
				t.Errorf("Walk found %d chunks, want 1", n)
			}
			if err := s.Delete(t.Context(), id); err != nil {
				t.Errorf("Delete: %v", err)
			}
			// Byte counters can't know what the file held before it was
			// damaged behind the store's back; the chunk count can.
			if st, err := s.Stats(t.Context()); err != nil || st.Chunks != 0 {
				t.Errorf("Stats after Delete = %+v, %v; want 0 chunks", st, err)
			}
		})
	}
}
