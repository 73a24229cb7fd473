package nfsgw

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/fusefs"
)

// TestFUSECoherence serves one volume over NFS and through a real FUSE
// mount in the same process: a file written and closed on one side is
// read on the other within the attribute timeout.
func TestFUSECoherence(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting FUSE directly needs root")
	}
	e := newEnv(t, Export{NoRootSquash: true})
	mnt := t.TempDir()
	const ttl = 200 * time.Millisecond
	srv, err := fusefs.Mount(e.volume(), mnt, fusefs.Options{AttrTimeout: ttl, EntryTimeout: ttl, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Error(err)
		}
		srv.Wait()
	})
	c := mountClient(t, e, 0, 0)

	fromNFS := bytes.Repeat([]byte("written over NFS\n"), 5000)
	c.writeFile("/from-nfs", fromNFS)
	waitFor(t, 5*ttl, func() bool {
		got, err := os.ReadFile(filepath.Join(mnt, "from-nfs"))
		return err == nil && bytes.Equal(got, fromNFS)
	})

	fromFUSE := bytes.Repeat([]byte("written through FUSE\n"), 5000)
	if err := os.WriteFile(filepath.Join(mnt, "from-fuse"), fromFUSE, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := c.readFile("/from-fuse"); !bytes.Equal(got, fromFUSE) {
		t.Fatalf("NFS read %d bytes of the file written through FUSE, want %d", len(got), len(fromFUSE))
	}

	// An overwrite through NFS shows through FUSE once the cache expires.
	c.writeFile("/from-fuse", fromNFS)
	want := c.readFile("/from-fuse")
	var got []byte
	deadline := time.Now().Add(5 * ttl)
	for time.Now().Before(deadline) {
		if got, err = os.ReadFile(filepath.Join(mnt, "from-fuse")); err == nil && bytes.Equal(got, want) {
			return
		}
		time.Sleep(ttl / 4)
	}
	t.Fatalf("FUSE still reads %d bytes (%q...), NFS %d bytes (%q...)", len(got), got[:20], len(want), want[:20])
}
