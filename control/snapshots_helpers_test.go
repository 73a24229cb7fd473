package control_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"syscall"
	"testing"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/fs"
)

// snapVolume creates volume name through the API and writes files into
// it through the daemon's filesystem (closed again, so nothing holds it).
func snapVolume(t *testing.T, d *daemon, name string, files map[string]string) {
	t.Helper()
	if _, err := d.api.Volumes.CreateVolume(ctx(t), &cairnv1.CreateVolumeRequest{Name: name}); err != nil {
		t.Fatal(err)
	}
	snapWriteFiles(t, d, name, files)
}

// snapWriteFiles writes files (name → content) at the root of volume.
func snapWriteFiles(t *testing.T, d *daemon, volume string, files map[string]string) {
	t.Helper()
	c := context.Background()
	v, err := d.d.FS.OpenVolume(c, volume)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close(c)
	for name, data := range files {
		if err := createFile(v, name, []byte(data)); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
}

// snapReadFile returns the content of file name at the root of volume, or
// ok false if there is none.
func snapReadFile(t *testing.T, d *daemon, volume, name string) (data string, ok bool) {
	t.Helper()
	c := context.Background()
	v, err := d.d.FS.OpenVolume(c, volume)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close(c)
	a, err := v.Lookup(c, nil, fs.RootIno, name)
	if errors.Is(err, syscall.ENOENT) {
		return "", false
	} else if err != nil {
		t.Fatal(err)
	}
	h, err := v.Open(c, nil, a.Ino, syscall.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release(c)
	buf := make([]byte, a.Size)
	n, err := h.Read(c, buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n]), true
}

// snapRefs lists every snapshot through the API, as VOLUME@NAME.
func snapRefs(t *testing.T, d *daemon) []string {
	t.Helper()
	resp, err := d.api.Snapshots.ListSnapshots(ctx(t), &cairnv1.ListSnapshotsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, s := range resp.GetSnapshots() {
		refs = append(refs, s.GetVolume()+"@"+s.GetName())
	}
	return refs
}

// snapUnchanged fails if the snapshots differ from before.
func snapUnchanged(t *testing.T, d *daemon, before []string) {
	t.Helper()
	if after := snapRefs(t, d); !slices.Equal(before, after) {
		t.Fatalf("a refused call changed the snapshots: %v, then %v", before, after)
	}
}

// snapMount mounts volume (VOLUME@NAME with snapshot) through the
// Mounts service on a fresh directory; unmount (also run when the test
// ends) unmounts it once.
func snapMount(t *testing.T, d *daemon, volume string, snapshot bool) (dir string, unmount func()) {
	t.Helper()
	dir = t.TempDir()
	if _, err := d.api.Mounts.Mount(ctx(t), &cairnv1.MountRequest{Volume: volume, Mountpoint: dir, Snapshot: snapshot}); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	unmount = func() {
		once.Do(func() {
			_, err := d.api.Mounts.Unmount(context.Background(), &cairnv1.UnmountRequest{Mountpoint: dir})
			if err != nil {
				t.Errorf("unmount %s: %v", dir, err)
			}
		})
	}
	t.Cleanup(unmount)
	return dir, unmount
}

// snapRemoveFile unlinks file name at the root of volume.
func snapRemoveFile(t *testing.T, d *daemon, volume, name string) {
	t.Helper()
	c := context.Background()
	v, err := d.d.FS.OpenVolume(c, volume)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close(c)
	if err := v.Unlink(c, nil, fs.RootIno, name); err != nil {
		t.Fatal(err)
	}
}
