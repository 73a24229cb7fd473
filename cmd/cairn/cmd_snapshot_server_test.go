package main

import (
	"context"
	"testing"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/snapshots"
)

// The server's snapshot services receive a push and stop cleanly.
func TestSnapshotServices(t *testing.T) {
	ctx := context.Background()
	open := func() (*datadir.Data, *snapshots.Manager) {
		d, err := datadir.Open(t.TempDir(), datadir.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d, snapshots.New(d.FS, d.Chunks, snapshots.Options{})
	}
	srcData, src := open()
	_, dst := open()
	if len(snapshotServerFlags()) != 2 {
		t.Fatal("want the --receive and --no-snapshot-scheduler flags")
	}
	addr := freeAddr(t)
	stop, err := startSnapshotServices(ctx, dst, addr, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srcData.FS.CreateVolume(ctx, "v", fs.VolumeConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Create(ctx, "v", "s", snapshots.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := src.Push(ctx, "v@s", "", addr)
	if err != nil {
		t.Fatal(err)
	}
	if st.Received.Snapshot.Ref() != "v@s" {
		t.Fatalf("pushed as %s", st.Received.Snapshot.Ref())
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
