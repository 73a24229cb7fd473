package fs

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs/meta"
)

// testParams are small chunking bounds so tests cross chunk boundaries.
var testParams = chunks.Params{Min: 4 << 10, Avg: 16 << 10, Max: 64 << 10}

type testEnv struct {
	fs    *FS
	kv    meta.KV
	store *chunks.Local
	dir   string
}

// newEnv opens a filesystem on a real badger KV and a real chunk store.
func newEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	return openEnv(t, dir)
}

func openEnv(t *testing.T, dir string) *testEnv {
	t.Helper()
	kv := openTestKV(t, dir)
	store, err := chunks.OpenLocal(dir, chunks.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := New(kv, store, Options{Chunking: testParams, FileDirty: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{fs: fsys, kv: kv, store: store, dir: dir}
	t.Cleanup(func() { e.close(t) })
	return e
}

func (e *testEnv) close(t *testing.T) {
	if e.kv == nil {
		return
	}
	if err := e.fs.Close(context.Background()); err != nil {
		t.Error(err)
	}
	if err := e.store.Close(); err != nil {
		t.Error(err)
	}
	if err := e.kv.Close(); err != nil {
		t.Error(err)
	}
	e.kv = nil
}

// volume creates and opens a volume.
func (e *testEnv) volume(t *testing.T, name string, cfg VolumeConfig) *Volume {
	t.Helper()
	ctx := context.Background()
	if _, err := e.fs.CreateVolume(ctx, name, cfg); err != nil {
		t.Fatal(err)
	}
	v, err := e.fs.OpenVolume(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if e.kv != nil {
			if err := v.Close(ctx); err != nil {
				t.Error(err)
			}
		}
	})
	return v
}

func wantErrno(t *testing.T, err error, want syscall.Errno) {
	t.Helper()
	var got syscall.Errno
	if !errors.As(err, &got) || got != want {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestVolumes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	for _, bad := range []string{"", "a/b", ".hidden", "x y", string(make([]byte, 200))} {
		_, err := e.fs.CreateVolume(ctx, bad, VolumeConfig{})
		wantErrno(t, err, syscall.EINVAL)
	}
	a := must[VolumeInfo](t)(e.fs.CreateVolume(ctx, "a", VolumeConfig{Quota: 1 << 20}))
	b := must[VolumeInfo](t)(e.fs.CreateVolume(ctx, "b", VolumeConfig{}))
	if a.ID == b.ID {
		t.Fatal("two volumes share an ID")
	}
	_, err := e.fs.CreateVolume(ctx, "a", VolumeConfig{})
	wantErrno(t, err, syscall.EEXIST)
	list := must[[]VolumeInfo](t)(e.fs.ListVolumes(ctx))
	if len(list) != 2 || list[0].Name != "a" || list[1].Name != "b" || list[0].Quota != 1<<20 {
		t.Fatalf("list = %+v", list)
	}
	v := must[*Volume](t)(e.fs.OpenVolume(ctx, "a"))
	wantErrno(t, e.fs.DeleteVolume(ctx, "a"), syscall.EBUSY)
	if err := v.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.fs.DeleteVolume(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	_, err = e.fs.OpenVolume(ctx, "a")
	wantErrno(t, err, syscall.ENOENT)
	if list = must[[]VolumeInfo](t)(e.fs.ListVolumes(ctx)); len(list) != 1 {
		t.Fatalf("after delete: %+v", list)
	}
}

func TestNamespace(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.volume(t, "ns", VolumeConfig{})
	attr := must[Attr](t)
	d := attr(v.Mkdir(ctx, nil, RootIno, "d", 0o755))
	f := attr(v.Mknod(ctx, nil, d.Ino, "f", syscall.S_IFREG|0o644, 0))
	if got := attr(v.Lookup(ctx, nil, d.Ino, "f")); got.Ino != f.Ino {
		t.Fatalf("lookup gave %d, want %d", got.Ino, f.Ino)
	}
	_, err := v.Mkdir(ctx, nil, d.Ino, "f", 0o755)
	wantErrno(t, err, syscall.EEXIST)
	_, err = v.Mkdir(ctx, nil, d.Ino, string(make([]byte, 256)), 0o755)
	wantErrno(t, err, syscall.ENAMETOOLONG)
	if root := attr(v.GetAttr(ctx, RootIno)); root.Nlink != 3 {
		t.Fatalf("root nlink %d, want 3", root.Nlink)
	}
	l := attr(v.Link(ctx, nil, f.Ino, RootIno, "hard"))
	if l.Nlink != 2 {
		t.Fatalf("nlink after link: %d", l.Nlink)
	}
	_, err = v.Link(ctx, nil, d.Ino, RootIno, "dirlink")
	wantErrno(t, err, syscall.EPERM)
	wantErrno(t, v.Rmdir(ctx, nil, RootIno, "d"), syscall.ENOTEMPTY)
	wantErrno(t, v.Unlink(ctx, nil, RootIno, "d"), syscall.EISDIR)
	wantErrno(t, v.Rename(ctx, nil, RootIno, "d", d.Ino, "sub", 0), syscall.EINVAL)
	wantErrno(t, v.Rename(ctx, nil, RootIno, "d", RootIno, "hard", 0), syscall.ENOTDIR)
	wantErrno(t, v.Rename(ctx, nil, RootIno, "hard", RootIno, "d", 0), syscall.EISDIR)
	wantErrno(t, v.Rename(ctx, nil, RootIno, "hard", d.Ino, "f", RenameNoReplace), syscall.EEXIST)
	// Two names of one file: rename is a no-op.
	if err := v.Rename(ctx, nil, RootIno, "hard", d.Ino, "f", 0); err != nil {
		t.Fatal(err)
	}
	s := attr(v.Symlink(ctx, nil, RootIno, "s", "d/f"))
	if err := v.Rename(ctx, nil, RootIno, "s", d.Ino, "f", RenameExchange); err != nil {
		t.Fatal(err)
	}
	if got := attr(v.Lookup(ctx, nil, d.Ino, "f")); got.Ino != s.Ino {
		t.Fatal("exchange did not swap")
	}
	if got := attr(v.Lookup(ctx, nil, RootIno, "s")); got.Ino != f.Ino {
		t.Fatal("exchange did not swap back")
	}
	if target := must[string](t)(v.Readlink(ctx, s.Ino)); target != "d/f" {
		t.Fatalf("readlink %q", target)
	}
	e2 := attr(v.Mkdir(ctx, nil, RootIno, "e", 0o700))
	if err := v.Rename(ctx, nil, RootIno, "d", e2.Ino, "d", 0); err != nil {
		t.Fatal(err)
	}
	if root := attr(v.GetAttr(ctx, RootIno)); root.Nlink != 3 {
		t.Fatalf("root nlink %d after moving d into e", root.Nlink)
	}
	if got := attr(v.GetAttr(ctx, e2.Ino)); got.Nlink != 3 {
		t.Fatalf("e nlink %d, want 3", got.Nlink)
	}
	checkFsck(t, e, 0)
}

func TestReadDirPaging(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.volume(t, "rd", VolumeConfig{})
	const n = 1200
	for i := range n {
		must[Attr](t)(v.Mknod(ctx, nil, RootIno, "file-"+itoa(i), syscall.S_IFREG|0o600, 0))
	}
	seen := map[string]bool{}
	var cookie uint64
	for {
		got := 0
		err := v.ReadDir(ctx, nil, RootIno, cookie, func(de DirEntry) bool {
			if seen[de.Name] {
				t.Fatalf("entry %s twice", de.Name)
			}
			seen[de.Name] = true
			cookie = de.Cookie
			got++
			return got < 100
		})
		if err != nil {
			t.Fatal(err)
		}
		if got == 0 {
			break
		}
	}
	if len(seen) != n {
		t.Fatalf("saw %d entries, want %d", len(seen), n)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// checkFsck runs a full check and wants exactly n problems.
func checkFsck(t *testing.T, e *testEnv, n int) FsckReport {
	t.Helper()
	rep, err := e.fs.Fsck(context.Background(), FsckOptions{Chunks: e.store})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != n {
		t.Fatalf("fsck: %d problems, want %d: %v", len(rep.Problems), n, rep.Problems)
	}
	return rep
}
