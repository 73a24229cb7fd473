package control_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// writeFile writes a file into volume through a FUSE mount of the daemon.
func writeFile(t *testing.T, d *daemon, volume, name string, data []byte) {
	t.Helper()
	c := ctx(t)
	dir := t.TempDir()
	if _, err := d.api.Mounts.Mount(c, &cairnv1.MountRequest{Volume: volume, Mountpoint: dir}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := d.api.Mounts.Unmount(c, &cairnv1.UnmountRequest{Mountpoint: dir}); err != nil {
		t.Fatal(err)
	}
}

func TestMountsRPCs(t *testing.T) {
	d := startDaemon(t)
	c := ctx(t)
	m := d.api.Mounts
	if _, err := d.api.Volumes.CreateVolume(c, &cairnv1.CreateVolumeRequest{Name: "v"}); err != nil {
		t.Fatal(err)
	}
	dir, other := t.TempDir(), t.TempDir()
	tests := []struct {
		name string
		req  *cairnv1.MountRequest
		code codes.Code
	}{
		{"mount", &cairnv1.MountRequest{Volume: "v", Mountpoint: dir}, codes.OK},
		{"mount there again", &cairnv1.MountRequest{Volume: "v", Mountpoint: dir}, codes.AlreadyExists},
		{"unknown volume", &cairnv1.MountRequest{Volume: "nope", Mountpoint: other}, codes.NotFound},
		{"no mountpoint", &cairnv1.MountRequest{Volume: "v"}, codes.InvalidArgument},
		{"no volume", &cairnv1.MountRequest{Mountpoint: other}, codes.InvalidArgument},
		{"snapshot without @", &cairnv1.MountRequest{Volume: "v", Mountpoint: other, Snapshot: true}, codes.InvalidArgument},
		{"@ without snapshot", &cairnv1.MountRequest{Volume: "v@s", Mountpoint: other}, codes.InvalidArgument},
		{"unknown snapshot", &cairnv1.MountRequest{Volume: "v@nope", Mountpoint: other, Snapshot: true}, codes.NotFound},
		{"missing mountpoint directory", &cairnv1.MountRequest{Volume: "v", Mountpoint: filepath.Join(other, "no", "dir")}, codes.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Mount(c, tt.req)
			wantCode(t, err, tt.code)
		})
	}
	list, err := m.ListMounts(c, &cairnv1.ListMountsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetMounts()) != 1 || list.GetMounts()[0].GetMountpoint() != dir || list.GetMounts()[0].GetOwner() != "cli" {
		t.Fatalf("mounts %v: want the one at %s", list.GetMounts(), dir)
	}
	// A busy mount is refused unless lazy.
	f, err := os.Create(filepath.Join(dir, "open"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Unmount(c, &cairnv1.UnmountRequest{Mountpoint: dir})
	wantCode(t, err, codes.FailedPrecondition)
	f.Close()
	if _, err := m.Unmount(c, &cairnv1.UnmountRequest{Mountpoint: dir}); err != nil {
		t.Fatal(err)
	}
	_, err = m.Unmount(c, &cairnv1.UnmountRequest{Mountpoint: dir})
	wantCode(t, err, codes.NotFound)
	_, err = m.Unmount(c, &cairnv1.UnmountRequest{})
	wantCode(t, err, codes.InvalidArgument)
	if mountedAt(t, dir) {
		t.Fatalf("%s still mounted", dir)
	}
}

// A mount unmounted from outside (umount(8)) leaves the table.
func TestMountEndsFromOutside(t *testing.T) {
	d := startDaemon(t)
	c := ctx(t)
	if _, err := d.api.Volumes.CreateVolume(c, &cairnv1.CreateVolumeRequest{Name: "v"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := d.api.Mounts.Mount(c, &cairnv1.MountRequest{Volume: "v", Mountpoint: dir, ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("write to a read-only mount: %v", err)
	}
	if err := syscall.Unmount(dir, 0); err != nil {
		t.Fatal(err)
	}
	for range 200 {
		list, err := d.api.Mounts.ListMounts(c, &cairnv1.ListMountsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.GetMounts()) == 0 {
			return
		}
		sleep()
	}
	t.Fatal("the mount stayed listed after umount")
}

// A read-only volume refuses writes through every mount.
func TestReadOnlyVolume(t *testing.T) {
	d := startDaemon(t)
	c := ctx(t)
	if _, err := d.api.Volumes.CreateVolume(c, &cairnv1.CreateVolumeRequest{Name: "v"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := d.api.Mounts.Mount(c, &cairnv1.MountRequest{Volume: "v", Mountpoint: dir}); err != nil {
		t.Fatal(err)
	}
	defer d.api.Mounts.Unmount(c, &cairnv1.UnmountRequest{Mountpoint: dir})
	ro := true
	if _, err := d.api.Volumes.SetOptions(c, &cairnv1.SetOptionsRequest{Name: "v", ReadOnly: &ro}); err != nil {
		t.Fatal(err)
	}
	err := os.WriteFile(filepath.Join(dir, "x"), []byte("x"), 0o644)
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("write to a read-only volume: %v", err)
	}
	if s, ok := status.FromError(err); ok {
		t.Fatalf("unexpected status %v", s)
	}
}

// mountedAt reports whether dir is a mount point.
func mountedAt(t *testing.T, dir string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(b), " "+dir+" ")
}
