package control_test

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/cairn-storage/cairn/fs"
)

// maintOpen opens volume in the daemon's filesystem until the test ends.
func maintOpen(t *testing.T, d *daemon, volume string) *fs.Volume {
	t.Helper()
	v, err := d.d.FS.OpenVolume(context.Background(), volume)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close(context.Background()) })
	return v
}

// createFile creates name at the root of v holding data.
func createFile(v *fs.Volume, name string, data []byte) error {
	c := context.Background()
	a, err := v.Mknod(c, nil, fs.RootIno, name, syscall.S_IFREG|0o644, 0)
	if err != nil {
		return err
	}
	h, err := v.Open(c, nil, a.Ino, syscall.O_WRONLY)
	if err != nil {
		return err
	}
	_, err = h.Write(c, data, 0)
	return errors.Join(err, h.Release(c))
}

// maintRemove unlinks name at the root of volume.
func maintRemove(t *testing.T, d *daemon, volume, name string) {
	t.Helper()
	if err := maintOpen(t, d, volume).Unlink(context.Background(), nil, fs.RootIno, name); err != nil {
		t.Fatal(err)
	}
}
