package fs

import (
	"bytes"
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// twoClients opens a second FS over e's metadata and chunk stores: two
// processes of a cluster sharing one namespace, each with its own write
// buffers and volume state.
func twoClients(t *testing.T, e *testEnv) *FS {
	t.Helper()
	other, err := New(e.kv, e.store, Options{Chunking: testParams, FileDirty: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := other.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return other
}

// cutContent snapshots v and returns the content of the root's file name
// in the cut.
func cutContent(t *testing.T, e *testEnv, v *Volume, opts SnapshotOptions, name string) []byte {
	t.Helper()
	ctx := context.Background()
	cut := must[[]TreeCut](t)(e.fs.Snapshot(ctx, []*Volume{v}, opts))[0]
	view := must[*Volume](t)(e.fs.OpenTreeVolume(ctx, TreeVolumeName(v.Info().Name, fmt.Sprint(time.Now().UnixNano())), cut.Root, cut.MaxIno))
	defer func() {
		if err := view.Close(ctx); err != nil {
			t.Error(err)
		}
		if err := e.fs.DeleteTreeVolume(ctx, view.Info().Name); err != nil {
			t.Error(err)
		}
	}()
	a := must[Attr](t)(view.Lookup(ctx, nil, RootIno, name))
	h := must[*Handle](t)(view.Open(ctx, nil, a.Ino, syscall.O_RDONLY))
	defer h.Release(ctx)
	buf := make([]byte, a.Size)
	n := must[int](t)(h.Read(ctx, buf, 0))
	return buf[:n]
}

// A write acknowledged by another client (returned from write, still in
// its buffer) is in a cut only when Freeze flushes that client; while it
// is frozen, its new writes wait.
func TestFreezeFlushesOtherClients(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	va := e.volume(t, "shared", VolumeConfig{})
	fb := twoClients(t, e)
	vb := must[*Volume](t)(fb.OpenVolume(ctx, "shared"))
	defer vb.Close(ctx)
	a := must[Attr](t)(vb.Mknod(ctx, nil, RootIno, "log", syscall.S_IFREG|0o644, 0))
	h := must[*Handle](t)(vb.Open(ctx, nil, a.Ino, syscall.O_WRONLY))
	defer h.Release(ctx)
	rec := []byte("record 1, acknowledged by write(2)\n")
	must[int](t)(h.Write(ctx, rec, 0))

	// Without the hook the buffered record is not in the cut: this is
	// what the freeze is for.
	if got := cutContent(t, e, va, SnapshotOptions{}, "log"); len(got) != 0 {
		t.Fatalf("unfrozen cut already holds %q; the test shows nothing", got)
	}

	held := make(chan error, 1)
	var thawed time.Time
	freeze := func(ctx context.Context, ids []uint64) (func(), error) {
		if len(ids) != 1 || ids[0] != va.Info().ID {
			return nil, fmt.Errorf("freeze asked for %v", ids)
		}
		thaw, err := fb.FreezeVolumes(ctx, ids)
		if err != nil {
			return nil, err
		}
		go func() {
			_, err := h.Write(ctx, []byte("record 2, after the cut\n"), int64(len(rec)))
			if err == nil && thawed.IsZero() {
				err = fmt.Errorf("a write went through while frozen")
			}
			held <- err
		}()
		time.Sleep(100 * time.Millisecond)
		return func() { thawed = time.Now(); thaw() }, nil
	}
	if got := cutContent(t, e, va, SnapshotOptions{Freeze: freeze}, "log"); !bytes.Equal(got, rec) {
		t.Fatalf("frozen cut holds %q, want %q", got, rec)
	}
	select {
	case err := <-held:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the held write never went on after the thaw")
	}
}

// A freeze refused by another client aborts the cut and releases this
// process's writes.
func TestFreezeFailureAbortsCut(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.volume(t, "v", VolumeConfig{})
	refuse := func(context.Context, []uint64) (func(), error) { return nil, fmt.Errorf("node n2 did not answer") }
	if _, err := e.fs.Snapshot(ctx, []*Volume{v}, SnapshotOptions{Freeze: refuse}); err == nil {
		t.Fatal("snapshot succeeded although a client could not be frozen")
	}
	done := make(chan struct{})
	go func() {
		writeFile(t, v, RootIno, "after", []byte("x"))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("writes still held after the failed snapshot")
	}
}

// A change made by another client after a cut is recorded in the new
// epoch, so the cut's saved tree caches never cover it.
func TestOtherClientSeesNewEpoch(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	va := e.volume(t, "ep", VolumeConfig{})
	f := writeFile(t, va, RootIno, "f", []byte("v1"))
	fb := twoClients(t, e)
	vb := must[*Volume](t)(fb.OpenVolume(ctx, "ep"))
	defer vb.Close(ctx)
	for range 2 {
		must[[]TreeCut](t)(e.fs.Snapshot(ctx, []*Volume{va}, SnapshotOptions{}))
	}
	writeFile(t, vb, RootIno, "f", []byte("v2 from the other client"))
	err := vb.view(ctx, func(r reader) error {
		epoch, err := loadEpoch(r.r, r.ks)
		if err != nil {
			return err
		}
		n, err := r.get(f)
		if err != nil {
			return err
		}
		if n.DirtyEpoch != epoch {
			return fmt.Errorf("change recorded in epoch %d, the volume is at %d", n.DirtyEpoch, epoch)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
