package nfsgw

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"

	"github.com/cairn-storage/cairn/fs"
)

// testSnapshots keeps snapshots of testVolume as the tree cuts
// fs.Snapshot returns.
type testSnapshots struct {
	e    *env
	mu   sync.Mutex
	cuts map[string]fs.TreeCut
}

func (s *testSnapshots) take(t *testing.T, name string) {
	t.Helper()
	v := s.e.volume()
	cuts, err := s.e.fsys.Snapshot(context.Background(), []*fs.Volume{v}, fs.SnapshotOptions{})
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

func (s *testSnapshots) List(_ context.Context, volume string) ([]SnapshotRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var refs []SnapshotRef
	for name := range s.cuts {
		if volume == testVolume {
			refs = append(refs, SnapshotRef{Name: name})
		}
	}
	return refs, nil
}

func (s *testSnapshots) Open(ctx context.Context, volume, name string) (*fs.Volume, error) {
	s.mu.Lock()
	cut, ok := s.cuts[name]
	s.mu.Unlock()
	if !ok || volume != testVolume {
		return nil, fmt.Errorf("snapshot %s@%s: %w", volume, name, syscall.ENOENT)
	}
	return s.e.fsys.OpenTreeVolume(ctx, fs.TreeVolumeName(volume, name), cut.Root, cut.MaxIno)
}

func dirNames(t *testing.T, c *client, path string) []string {
	t.Helper()
	es, err := c.tgt.ReadDirPlus(path)
	if err != nil {
		t.Fatalf("readdirplus %s: %v", path, err)
	}
	var names []string
	for _, e := range es {
		if e.FileName != "." && e.FileName != ".." {
			names = append(names, e.FileName)
		}
	}
	slices.Sort(names)
	return names
}

// TestSnapshotsDir browses snapshots through /VOLUME/.snapshots.
func TestSnapshotsDir(t *testing.T) {
	snaps := &testSnapshots{}
	e := newEnv(t, Export{NoRootSquash: true}, func(c *Config) { c.Snapshots = snaps })
	snaps.e = e
	c := mountClient(t, e, 0, 0)
	c.writeFile("/a", []byte("old a"))
	if _, err := c.tgt.Mkdir("/dir", 0o755); err != nil {
		t.Fatal(err)
	}
	c.writeFile("/dir/b", []byte("old b"))
	snaps.take(t, "s1")
	c.writeFile("/a", []byte("new a!"))
	c.writeFile("/c", []byte("c"))

	if names := dirNames(t, c, "/"); slices.Contains(names, snapDirName) {
		t.Errorf("root lists .snapshots: %v", names)
	}
	if names := dirNames(t, c, "/.snapshots"); !slices.Equal(names, []string{"s1"}) {
		t.Errorf(".snapshots lists %v, want [s1]", names)
	}
	if names := dirNames(t, c, "/.snapshots/s1"); !slices.Equal(names, []string{"a", "dir"}) {
		t.Errorf("s1 lists %v, want [a dir]", names)
	}
	for path, want := range map[string]string{"/.snapshots/s1/a": "old a", "/.snapshots/s1/dir/b": "old b", "/a": "new a!"} {
		if got := string(c.readFile(path)); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	if _, _, err := c.tgt.Lookup("/.snapshots/s1/c"); err == nil {
		t.Errorf("s1/c exists")
	}
	if _, _, err := c.tgt.Lookup("/.snapshots/nope"); err == nil {
		t.Errorf("a missing snapshot exists")
	}
	if _, err := c.tgt.OpenFile("/.snapshots/s1/new", 0o644); nfsErrno(err) != uint32(syscall.EROFS) {
		t.Errorf("create in a snapshot: %v, want EROFS", err)
	}
	if _, err := c.tgt.Mkdir("/.snapshots/s2", 0o755); nfsErrno(err) != uint32(syscall.EROFS) {
		t.Errorf("mkdir in .snapshots: %v, want EROFS", err)
	}
	if err := c.tgt.Remove("/.snapshots/s1/a"); nfsErrno(err) != uint32(syscall.EROFS) {
		t.Errorf("remove in a snapshot: %v, want EROFS", err)
	}

	if err := c.tgt.RmDir("/.snapshots"); err == nil {
		t.Errorf("rmdir .snapshots succeeded")
	}

	// Handles of a snapshot and of .snapshots outlive the gateway.
	fileFH, dirFH := c.fh("/.snapshots/s1/a"), c.fh("/.snapshots")
	if c.fh("/.snapshots/s1/..") == nil || string(c.fh("/.snapshots/s1/../..")) != string(c.root) {
		t.Errorf(".. from a snapshot does not lead back to the root")
	}
	e.restart()
	rc := dialRaw(t, e.addr, "")
	if st, size, _ := rc.getattr(fileFH); st != 0 || size != 5 {
		t.Errorf("GETATTR of a snapshot's file after restart: status %d size %d", st, size)
	}
	if st, _, _ := rc.getattr(dirFH); st != 0 {
		t.Errorf("GETATTR of .snapshots after restart: status %d", st)
	}
}

// TestNoSnapshotsDir: without Config.Snapshots there is no .snapshots.
func TestNoSnapshotsDir(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	c := mountClient(t, e, 0, 0)
	if _, _, err := c.tgt.Lookup("/.snapshots"); err == nil {
		t.Errorf(".snapshots exists")
	}
}
