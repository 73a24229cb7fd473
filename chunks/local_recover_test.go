package chunks

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestRecoverTmp checks that a chunk left unsynced in tmp/ by a process
// that died is kept, and that a torn one is discarded.
func TestRecoverTmp(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	good := bytes.Repeat([]byte("complete chunk "), 1000)
	torn := bytes.Repeat([]byte("torn chunk "), 1000)
	for _, c := range []struct {
		data []byte
		cut  int
	}{{good, 0}, {torn, 100}} {
		h, p := encodeFrame(c.data, false)
		frame := append(h, p...)
		frame = frame[:len(frame)-c.cut]
		if err := os.WriteFile(filepath.Join(tmp, Sum(c.data).String()+".123"), frame, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l, err := OpenLocal(dir, LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got, err := l.Get(t.Context(), Sum(good))
	if err != nil || !bytes.Equal(got, good) {
		t.Fatalf("recovered chunk: %v", err)
	}
	if _, err := l.Get(t.Context(), Sum(torn)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("torn chunk: got %v, want ErrNotFound", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("tmp/ not emptied: %d files", len(left))
	}
}
