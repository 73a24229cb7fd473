//go:build linux

// The tests need Linux's FUSE, and several compare the mount with what
// Linux file systems do (fallocate, renameat2, lazy unmounts, permission
// rules), so they are built on Linux only.

package fusefs

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fs"
)

var long = flag.Bool("long", false, "run the differential test with 200k operations")

// roleEnv, when set, makes the test binary act as a child process of a
// test (see childRoles) instead of running tests.
const roleEnv = "CAIRN_FUSEFS_ROLE"

// childRoles are the programs a re-executed test binary can run.
var childRoles = map[string]func() error{
	"crash": crashChild,
	"perm":  permChild,
	"diff":  diffChild,
}

func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		run := childRoles[role]
		if run == nil {
			fmt.Fprintf(os.Stderr, "unknown role %q\n", role)
			os.Exit(2)
		}
		if err := run(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// requireFUSE skips tests that need to mount, unless running as root
// with /dev/fuse.
func requireFUSE(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("FUSE tests mount with DirectMount and need root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("no FUSE device: %v", err)
	}
}

// logBuffer collects log output, safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// quietLogger logs warnings and errors to w.
func quietLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openData opens a data directory, closed when the test ends.
func openData(t testing.TB, dir string, log *slog.Logger) *datadir.Data {
	t.Helper()
	if log == nil {
		log = quietLogger(os.Stderr)
	}
	d, err := datadir.Open(dir, datadir.Options{Logger: log})
	if err != nil {
		t.Fatalf("open data dir: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close data dir: %v", err)
		}
	})
	return d
}

// newVolume creates and opens a volume, closed when the test ends.
func newVolume(t testing.TB, d *datadir.Data, name string) *fs.Volume {
	t.Helper()
	ctx := context.Background()
	if _, err := d.FS.CreateVolume(ctx, name, fs.VolumeConfig{}); err != nil {
		t.Fatalf("create volume: %v", err)
	}
	return openVolume(t, d, name)
}

func openVolume(t testing.TB, d *datadir.Data, name string) *fs.Volume {
	t.Helper()
	vol, err := d.FS.OpenVolume(context.Background(), name)
	if err != nil {
		t.Fatalf("open volume: %v", err)
	}
	t.Cleanup(func() {
		if err := vol.Close(context.Background()); err != nil {
			t.Errorf("close volume: %v", err)
		}
	})
	return vol
}

// mountVolume mounts vol on a new directory, unmounted when the test ends.
func mountVolume(t testing.TB, vol *fs.Volume, opts Options) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := mountAt(t, vol, dir, opts)
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	return dir
}

func mountAt(t testing.TB, vol *fs.Volume, dir string, opts Options) *Server {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger(os.Stderr)
	}
	srv, err := Mount(vol, dir, opts)
	if err != nil {
		t.Fatalf("mount: %v", err)
	}
	return srv
}
