//go:build linux

package fusefs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fs"
)

// testSnapshots keeps snapshots as the tree cuts fs.Snapshot returns.
type testSnapshots struct {
	d   *datadir.Data
	vol *fs.Volume

	mu   sync.Mutex
	cuts map[string]fs.TreeCut
}

func (s *testSnapshots) take(t *testing.T, name string) {
	t.Helper()
	cuts, err := s.d.FS.Snapshot(context.Background(), []*fs.Volume{s.vol}, fs.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cuts == nil {
		s.cuts = map[string]fs.TreeCut{}
	}
	s.cuts[name] = cuts[0]
}

func (s *testSnapshots) List(context.Context) ([]SnapshotRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var refs []SnapshotRef
	for name := range s.cuts {
		refs = append(refs, SnapshotRef{Name: name})
	}
	return refs, nil
}

func (s *testSnapshots) Open(ctx context.Context, name string) (*fs.Volume, error) {
	s.mu.Lock()
	cut, ok := s.cuts[name]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("snapshot %s: %w", name, syscall.ENOENT)
	}
	return s.d.FS.OpenTreeVolume(ctx, fs.TreeVolumeName(s.vol.Info().Name, name), cut.Root, cut.MaxIno)
}

func readNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestSnapshotsDir browses snapshots through .snapshots.
func TestSnapshotsDir(t *testing.T) {
	requireFUSE(t)
	d := openData(t, t.TempDir(), nil)
	vol := newVolume(t, d, "snapvol")
	snaps := &testSnapshots{d: d, vol: vol}
	mnt := mountVolume(t, vol, Options{Snapshots: snaps})

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(mnt, "a"), []byte("old a"), 0o644))
	must(os.Mkdir(filepath.Join(mnt, "dir"), 0o755))
	must(os.WriteFile(filepath.Join(mnt, "dir", "b"), []byte("old b"), 0o644))
	snaps.take(t, "s1")
	must(os.WriteFile(filepath.Join(mnt, "a"), []byte("new a!"), 0o644))
	must(os.WriteFile(filepath.Join(mnt, "dir", "b"), []byte("new b!"), 0o644))
	must(os.WriteFile(filepath.Join(mnt, "c"), []byte("c"), 0o644))
	snaps.take(t, "s2")
	must(os.Remove(filepath.Join(mnt, "c")))

	if names := readNames(t, mnt); slices.Contains(names, snapDirName) {
		t.Errorf("root lists %s: %v", snapDirName, names)
	}
	sd := filepath.Join(mnt, snapDirName)
	if st, err := os.Stat(sd); err != nil || !st.IsDir() {
		t.Fatalf("stat .snapshots: %v, %v", st, err)
	}
	names := readNames(t, sd)
	slices.Sort(names)
	if !slices.Equal(names, []string{"s1", "s2"}) {
		t.Errorf(".snapshots lists %v, want [s1 s2]", names)
	}
	for path, want := range map[string]string{
		"s1/a": "old a", "s1/dir/b": "old b", "s2/a": "new a!", "s2/dir/b": "new b!", "s2/c": "c", "a": "new a!",
	} {
		p := filepath.Join(sd, path)
		if path == "a" {
			p = filepath.Join(mnt, path)
		}
		if b, err := os.ReadFile(p); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", path, b, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(sd, "s1", "c")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("s1/c: %v, want ENOENT", err)
	}
	if _, err := os.Stat(filepath.Join(sd, "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing snapshot: %v, want ENOENT", err)
	}
	if names := readNames(t, filepath.Join(sd, "s1")); !slices.Equal(names, []string{"a", "dir"}) {
		t.Errorf("s1 lists %v", names)
	}

	// Inode numbers are unique across the mount.
	inos := map[uint64]string{}
	for _, p := range []string{mnt, filepath.Join(mnt, "a"), filepath.Join(mnt, "dir"), sd,
		filepath.Join(sd, "s1"), filepath.Join(sd, "s1", "a"), filepath.Join(sd, "s1", "dir"),
		filepath.Join(sd, "s2"), filepath.Join(sd, "s2", "a")} {
		var st syscall.Stat_t
		must(syscall.Stat(p, &st))
		if q, dup := inos[st.Ino]; dup {
			t.Errorf("%s and %s share inode %d", p, q, st.Ino)
		}
		inos[st.Ino] = p
	}

	for name, err := range map[string]error{
		"write":  os.WriteFile(filepath.Join(sd, "s1", "a"), []byte("x"), 0o644),
		"create": os.WriteFile(filepath.Join(sd, "s1", "new"), nil, 0o644),
		"mkdir":  os.Mkdir(filepath.Join(sd, "s1", "d2"), 0o755),
		"chmod":  os.Chmod(filepath.Join(sd, "s1", "a"), 0o600),
		"remove": os.Remove(filepath.Join(sd, "s1", "a")),
	} {
		if !errors.Is(err, syscall.EROFS) {
			t.Errorf("%s in snapshot: got %v, want EROFS", name, err)
		}
	}
	for name, err := range map[string]error{
		"mkdir in .snapshots": os.Mkdir(filepath.Join(sd, "s3"), 0o755),
		"rmdir .snapshots":    os.Remove(sd),
		"mkdir .snapshots":    os.Mkdir(sd, 0o755),
	} {
		if err == nil {
			t.Errorf("%s succeeded", name)
		}
	}
	if err := os.Rename(filepath.Join(sd, "s1", "a"), filepath.Join(mnt, "moved")); err == nil {
		t.Errorf("rename out of a snapshot succeeded")
	}
	if b, err := os.ReadFile(filepath.Join(mnt, "a")); err != nil || string(b) != "new a!" {
		t.Errorf("a after all: %q, %v", b, err)
	}
}

// TestShowSnapshots lists .snapshots in the root with ShowSnapshots.
func TestShowSnapshots(t *testing.T) {
	requireFUSE(t)
	d := openData(t, t.TempDir(), nil)
	vol := newVolume(t, d, "showvol")
	snaps := &testSnapshots{d: d, vol: vol}
	mnt := mountVolume(t, vol, Options{Snapshots: snaps, ShowSnapshots: true})
	if err := os.WriteFile(filepath.Join(mnt, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	snaps.take(t, "s1")
	if names := readNames(t, mnt); !slices.Equal(names, []string{snapDirName, "f"}) {
		t.Errorf("root lists %v, want [.snapshots f]", names)
	}
	if names := readNames(t, filepath.Join(mnt, snapDirName, "s1")); !slices.Equal(names, []string{"f"}) {
		t.Errorf("s1 lists %v, want [f]", names)
	}
}

// TestNoSnapshotsDir: without Options.Snapshots there is no .snapshots.
func TestNoSnapshotsDir(t *testing.T) {
	requireFUSE(t)
	d := openData(t, t.TempDir(), nil)
	mnt := mountVolume(t, newVolume(t, d, "plain"), Options{})
	if _, err := os.Stat(filepath.Join(mnt, snapDirName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat .snapshots: %v, want ENOENT", err)
	}
}
