package badgerkv_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/fs/meta"
	"github.com/cairn-storage/cairn/fs/meta/badgerkv"
	"github.com/cairn-storage/cairn/fs/meta/metatest"
)

func TestConformance(t *testing.T) {
	tests := []struct {
		name string
		open func(t *testing.T) (*badgerkv.KV, error)
	}{
		{"disk", func(t *testing.T) (*badgerkv.KV, error) {
			return badgerkv.Open(t.TempDir(), badgerkv.Options{})
		}},
		{"memory", func(t *testing.T) (*badgerkv.KV, error) {
			return badgerkv.Open("", badgerkv.Options{InMemory: true})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			metatest.Test(t, func(t *testing.T) meta.KV {
				kv, err := tt.open(t)
				if err != nil {
					t.Fatal(err)
				}
				return kv
			})
		})
	}
}

func open(t *testing.T, dir string, opts badgerkv.Options) *badgerkv.KV {
	t.Helper()
	kv, err := badgerkv.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	return kv
}

func put(t *testing.T, kv meta.KV, key, value string) {
	t.Helper()
	err := kv.Update(t.Context(), func(tx meta.Txn) error { return tx.Set([]byte(key), []byte(value)) })
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func wantValue(t *testing.T, kv meta.KV, key, want string) {
	t.Helper()
	err := kv.View(t.Context(), func(r meta.Reader) error {
		v, err := r.Get([]byte(key))
		if err == nil && string(v) != want {
			t.Errorf("Get(%q) = %q; want %q", key, v, want)
		}
		return err
	})
	if err != nil {
		t.Errorf("Get(%q): %v", key, err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	kv := open(t, dir, badgerkv.Options{})
	put(t, kv, "small", "v")
	put(t, kv, "large", strings.Repeat("x", 64<<10)) // in the value log
	if err := kv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := kv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := kv.View(t.Context(), func(meta.Reader) error { return nil }); !errors.Is(err, badgerkv.ErrClosed) {
		t.Errorf("View after Close = %v; want ErrClosed", err)
	}

	kv = open(t, dir, badgerkv.Options{})
	defer kv.Close()
	wantValue(t, kv, "small", "v")
	wantValue(t, kv, "large", strings.Repeat("x", 64<<10))
}

func TestSecondOpenFails(t *testing.T) {
	dir := t.TempDir()
	kv := open(t, dir, badgerkv.Options{})
	_, err := badgerkv.Open(dir, badgerkv.Options{})
	if !errors.Is(err, badgerkv.ErrInUse) {
		t.Fatalf("second Open = %v; want ErrInUse", err)
	}
	want := "data directory " + dir + " is in use by another cairn process"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("second Open error %q; want it to say %q", err, want)
	}
	if got := badgerkv.Owner(dir); got != os.Getpid() {
		t.Errorf("Owner = %d; want this process, %d", got, os.Getpid())
	}
	if err := kv.Close(); err != nil {
		t.Fatal(err)
	}
	kv = open(t, dir, badgerkv.Options{}) // free again
	kv.Close()
}

func TestOpenArguments(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		opts badgerkv.Options
	}{
		{"no directory", "", badgerkv.Options{}},
		{"in-memory with directory", t.TempDir(), badgerkv.Options{InMemory: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if kv, err := badgerkv.Open(tt.dir, tt.opts); err == nil {
				kv.Close()
				t.Errorf("Open succeeded; want an error")
			}
		})
	}
}

// Value-log GC runs in the background and Close stops it.
func TestGCLoop(t *testing.T) {
	kv := open(t, t.TempDir(), badgerkv.Options{GCInterval: time.Millisecond})
	for i := range 20 {
		put(t, kv, "k", strings.Repeat(string(rune('a'+i)), 16<<10))
	}
	time.Sleep(20 * time.Millisecond)
	if err := kv.Close(); err != nil {
		t.Fatal(err)
	}
}

// A committed update survives the death of the process without Sync or
// Close: the writes reached the operating system.
func TestCrashKeepsCommitted(t *testing.T) {
	if dir := os.Getenv("BADGERKV_CRASH_DIR"); dir != "" {
		kv := open(t, dir, badgerkv.Options{})
		put(t, kv, "small", "committed")
		put(t, kv, "large", strings.Repeat("y", 64<<10))
		os.Exit(0) // no Close, no Sync
	}
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	dir := filepath.Join(t.TempDir(), "meta")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKeepsCommitted$")
	cmd.Env = append(os.Environ(), "BADGERKV_CRASH_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("writer process: %v\n%s", err, out)
	}
	kv := open(t, dir, badgerkv.Options{})
	defer kv.Close()
	wantValue(t, kv, "small", "committed")
	wantValue(t, kv, "large", strings.Repeat("y", 64<<10))
}

func TestValueSizes(t *testing.T) {
	tests := []struct {
		name    string
		dir     string
		opts    badgerkv.Options
		size    int
		wantErr bool
	}{
		{"disk 1 MiB", t.TempDir(), badgerkv.Options{}, 1 << 20, false},
		{"disk 16 MiB", t.TempDir(), badgerkv.Options{}, 16 << 20, false},
		{"memory under 1 MiB", "", badgerkv.Options{InMemory: true}, 1<<20 - 1, false},
		{"memory 1 MiB", "", badgerkv.Options{InMemory: true}, 1 << 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := open(t, tt.dir, tt.opts)
			defer kv.Close()
			v := strings.Repeat("v", tt.size)
			err := kv.Update(t.Context(), func(tx meta.Txn) error { return tx.Set([]byte("k"), []byte(v)) })
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("Update(%d-byte value) = %v; want error: %v", tt.size, err, tt.wantErr)
			}
			if !tt.wantErr {
				wantValue(t, kv, "k", v)
			}
		})
	}
}
