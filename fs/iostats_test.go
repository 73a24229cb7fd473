package fs

import (
	"context"
	"syscall"
	"testing"
)

// TestIOStats counts reads, writes and fsyncs through handles, per volume,
// across a volume's open state being dropped and made again.
func TestIOStats(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	b := e.volume(t, "b", VolumeConfig{})
	must[VolumeInfo](t)(e.fs.CreateVolume(ctx, "a", VolumeConfig{}))
	a := must[*Volume](t)(e.fs.OpenVolume(ctx, "a"))
	handles := map[*Handle]bool{}
	open := func(v *Volume, name string) *Handle {
		t.Helper()
		attr, err := v.Lookup(ctx, nil, RootIno, name)
		if err != nil {
			attr = must[Attr](t)(v.Mknod(ctx, nil, RootIno, name, syscall.S_IFREG|0o644, 0))
		}
		h := must[*Handle](t)(v.Open(ctx, nil, attr.Ino, syscall.O_RDWR))
		handles[h] = true
		return h
	}
	release := func(h *Handle) error {
		delete(handles, h)
		return h.Release(ctx)
	}
	t.Cleanup(func() {
		for h := range handles {
			release(h)
		}
		a.Close(ctx)
	})
	ha, hb := open(a, "f"), open(b, "f")
	buf := make([]byte, 1000)
	steps := []struct {
		name string
		do   func() error
		vol  string
		want IOStats // times: only whether they are non-zero
	}{
		{"write", func() error { _, err := ha.Write(ctx, make([]byte, 300), 0); return err },
			"a", IOStats{Writes: 1, WriteBytes: 300, WriteTime: 1}},
		{"append", func() error { _, err := ha.Write(ctx, make([]byte, 200), 300); return err },
			"a", IOStats{Writes: 2, WriteBytes: 500, WriteTime: 1}},
		{"read counts the bytes returned", func() error { _, err := ha.Read(ctx, buf, 100); return err },
			"a", IOStats{Writes: 2, WriteBytes: 500, Reads: 1, ReadBytes: 400, WriteTime: 1, ReadTime: 1}},
		{"read at end of file", func() error { _, err := ha.Read(ctx, buf, 500); return err },
			"a", IOStats{Writes: 2, WriteBytes: 500, Reads: 2, ReadBytes: 400, WriteTime: 1, ReadTime: 1}},
		{"negative offset is not an I/O", func() error {
			if _, err := ha.Read(ctx, buf, -1); err == nil {
				t.Error("read at -1 succeeded")
			}
			return nil
		}, "a", IOStats{Writes: 2, WriteBytes: 500, Reads: 2, ReadBytes: 400, WriteTime: 1, ReadTime: 1}},
		{"fsync", func() error { return ha.Fsync(ctx) },
			"a", IOStats{Writes: 2, WriteBytes: 500, Reads: 2, ReadBytes: 400, WriteTime: 1, ReadTime: 1, Fsyncs: 1}},
		{"other volume apart", func() error { _, err := hb.Write(ctx, make([]byte, 7), 0); return err },
			"b", IOStats{Writes: 1, WriteBytes: 7, WriteTime: 1}},
		{"volume dropped and opened again goes on", func() error {
			if err := release(ha); err != nil {
				return err
			}
			if err := a.Close(ctx); err != nil {
				return err
			}
			if err := e.fs.forget("a"); err != nil { // drop the open state
				return err
			}
			a = must[*Volume](t)(e.fs.OpenVolume(ctx, "a"))
			_, err := open(a, "f").Read(ctx, buf, 0)
			return err
		}, "a", IOStats{Writes: 2, WriteBytes: 500, Reads: 3, ReadBytes: 900, WriteTime: 1, ReadTime: 1, Fsyncs: 1}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		info := must[VolumeInfo](t)(e.fs.VolumeInfo(ctx, s.vol))
		got := e.fs.IOStats(info.ID)
		if (got.ReadTime > 0) != (s.want.ReadTime > 0) || (got.WriteTime > 0) != (s.want.WriteTime > 0) {
			t.Fatalf("%s: times %v, %v; want non-zero only where counted", s.name, got.ReadTime, got.WriteTime)
		}
		got.ReadTime, got.WriteTime, s.want.ReadTime, s.want.WriteTime = 0, 0, 0, 0
		if got != s.want {
			t.Fatalf("%s: got %+v, want %+v", s.name, got, s.want)
		}
	}
	if got := e.fs.IOStats(1 << 60); got != (IOStats{}) {
		t.Fatalf("unknown volume: %+v", got)
	}
}

// TestIOStatsDroppedOnDelete checks that a deleted volume's counters go,
// and a volume made again under its name starts from zero.
func TestIOStatsDroppedOnDelete(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	info := must[VolumeInfo](t)(e.fs.CreateVolume(ctx, "gone", VolumeConfig{}))
	v := must[*Volume](t)(e.fs.OpenVolume(ctx, "gone"))
	attr := must[Attr](t)(v.Mknod(ctx, nil, RootIno, "f", syscall.S_IFREG|0o644, 0))
	h := must[*Handle](t)(v.Open(ctx, nil, attr.Ino, syscall.O_WRONLY))
	if _, err := h.Write(ctx, []byte("data"), 0); err != nil {
		t.Fatal(err)
	}
	if err := h.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := v.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.fs.IOStats(info.ID); got.Writes != 1 {
		t.Fatalf("before delete: %+v", got)
	}
	if err := e.fs.DeleteVolume(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if got := e.fs.IOStats(info.ID); got != (IOStats{}) {
		t.Fatalf("after delete: %+v", got)
	}
	again := must[VolumeInfo](t)(e.fs.CreateVolume(ctx, "gone", VolumeConfig{}))
	if got := e.fs.IOStats(again.ID); got != (IOStats{}) {
		t.Fatalf("new volume of the same name: %+v", got)
	}
}
