package fs

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// model is the expected content of a file.
type model []byte

func (m *model) write(p []byte, off int) {
	if end := off + len(p); end > len(*m) {
		*m = append(*m, make([]byte, end-len(*m))...)
	}
	copy((*m)[off:], p)
}

func (m *model) truncate(n int) {
	if n <= len(*m) {
		*m = (*m)[:n]
		return
	}
	*m = append(*m, make([]byte, n-len(*m))...)
}

func readAll(t *testing.T, h *Handle, size int) []byte {
	t.Helper()
	buf := make([]byte, size+100)
	n, err := h.Read(context.Background(), buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// TestRandomWrites checks reads against a model after random writes,
// truncations, flushes and reopenings, then that fsck is clean.
func TestRandomWrites(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.volume(t, "rw", VolumeConfig{})
	a := must[Attr](t)(v.Mknod(ctx, nil, RootIno, "f", syscall.S_IFREG|0o644, 0))
	h := must[*Handle](t)(v.Open(ctx, nil, a.Ino, syscall.O_RDWR))
	rng := rand.New(rand.NewPCG(1, 2))
	var m model
	for step := range 3000 {
		switch op := rng.IntN(20); {
		case op < 12:
			p := make([]byte, 1+rng.IntN(20000))
			for i := range p {
				p[i] = byte(rng.Uint32())
			}
			off := rng.IntN(400000)
			if op < 4 {
				off = len(m) // append
			}
			if _, err := h.Write(ctx, p, int64(off)); err != nil {
				t.Fatal(err)
			}
			m.write(p, off)
		case op < 14:
			n := rng.IntN(len(m) + 10000)
			if _, err := v.SetAttr(ctx, nil, a.Ino, SetAttrIn{Size: ptr(uint64(n)), ByHandle: true}); err != nil {
				t.Fatal(err)
			}
			m.truncate(n)
		case op < 16:
			if err := h.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		case op < 17:
			if err := h.Release(ctx); err != nil {
				t.Fatal(err)
			}
			h = must[*Handle](t)(v.Open(ctx, nil, a.Ino, syscall.O_RDWR))
		default:
			off := rng.IntN(len(m) + 1)
			buf := make([]byte, rng.IntN(70000))
			n, err := h.Read(ctx, buf, int64(off))
			if err != nil {
				t.Fatal(err)
			}
			if want := m[off:min(len(m), off+len(buf))]; !bytes.Equal(buf[:n], want) {
				t.Fatalf("step %d: read at %d: got %d bytes differing from model (%d)", step, off, n, len(want))
			}
		}
		if got := must[Attr](t)(v.GetAttr(ctx, a.Ino)); got.Size != uint64(len(m)) {
			t.Fatalf("step %d: size %d, want %d", step, got.Size, len(m))
		}
	}
	if got := readAll(t, h, len(m)); !bytes.Equal(got, m) {
		t.Fatal("final content differs")
	}
	if err := h.Release(ctx); err != nil {
		t.Fatal(err)
	}
	checkFsck(t, e, 0)
}

func ptr[T any](v T) *T { return &v }

// TestUnlinkOpen checks that an unlinked open file keeps its data until
// the last close, that the space is then reclaimed, and that a crash in
// between leaves an orphan reclaimed at the next open.
func TestUnlinkOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := openEnv(t, dir)
	v := e.volume(t, "u", VolumeConfig{})
	data := bytes.Repeat([]byte("cairn"), 50000)
	for _, crash := range []bool{false, true} {
		a := must[Attr](t)(v.Mknod(ctx, nil, RootIno, "f", syscall.S_IFREG|0o644, 0))
		h := must[*Handle](t)(v.Open(ctx, nil, a.Ino, syscall.O_RDWR))
		must[int](t)(h.Write(ctx, data, 0))
		if err := h.Fsync(ctx); err != nil {
			t.Fatal(err)
		}
		if err := v.Unlink(ctx, nil, RootIno, "f"); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, h, len(data)); !bytes.Equal(got, data) {
			t.Fatal("unlinked open file lost its data")
		}
		if crash {
			break
		}
		if err := h.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if u := must[Usage](t)(v.Usage(ctx)); u.Bytes != 0 || u.Inodes != 1 {
			t.Fatalf("usage after last close: %+v", u)
		}
	}
	// Crash: the stores close without the handle's release.
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.kv.Close(); err != nil {
		t.Fatal(err)
	}
	e.kv = nil
	e2 := openEnv(t, dir)
	v2 := must[*Volume](t)(e2.fs.OpenVolume(ctx, "u"))
	defer v2.Close(ctx)
	if u := must[Usage](t)(v2.Usage(ctx)); u.Bytes != 0 || u.Inodes != 1 {
		t.Fatalf("usage after orphan reclaim: %+v", u)
	}
	checkFsck(t, e2, 0)
}

func TestPermissions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.volume(t, "p", VolumeConfig{})
	user := &Caller{Uid: 1000, Gid: 1000}
	other := &Caller{Uid: 1001, Gid: 1001}
	if _, err := v.SetAttr(ctx, nil, RootIno, SetAttrIn{Mode: ptr(uint32(0o1777))}); err != nil {
		t.Fatal(err)
	}
	secret := must[Attr](t)(v.Mknod(ctx, nil, RootIno, "secret", syscall.S_IFREG|0o600, 0))
	_, err := v.Open(ctx, user, secret.Ino, syscall.O_RDONLY)
	wantErrno(t, err, syscall.EACCES)
	mine := must[Attr](t)(v.Mknod(ctx, user, RootIno, "mine", syscall.S_IFREG|0o4755, 0))
	if mine.Uid != 1000 || mine.Gid != 1000 {
		t.Fatalf("owner %d:%d", mine.Uid, mine.Gid)
	}
	wantErrno(t, v.Unlink(ctx, other, RootIno, "mine"), syscall.EPERM) // sticky
	_, err = v.SetAttr(ctx, other, mine.Ino, SetAttrIn{Mode: ptr(uint32(0o777))})
	wantErrno(t, err, syscall.EPERM)
	_, err = v.SetAttr(ctx, user, mine.Ino, SetAttrIn{Uid: ptr(uint32(0))})
	wantErrno(t, err, syscall.EPERM)
	// A write by the owner (not root) clears set-user-ID.
	h := must[*Handle](t)(v.Open(ctx, user, mine.Ino, syscall.O_WRONLY))
	must[int](t)(h.Write(ctx, []byte("x"), 0))
	if err := h.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if a := must[Attr](t)(v.GetAttr(ctx, mine.Ino)); a.Mode&syscall.S_ISUID != 0 {
		t.Fatalf("mode %#o still set-user-ID after write", a.Mode)
	}
	// Set-group-ID directories pass their group on.
	sg := must[Attr](t)(v.Mkdir(ctx, nil, RootIno, "sg", 0o2777))
	if _, err := v.SetAttr(ctx, nil, sg.Ino, SetAttrIn{Gid: ptr(uint32(50))}); err != nil {
		t.Fatal(err)
	}
	sub := must[Attr](t)(v.Mkdir(ctx, user, sg.Ino, "sub", 0o755))
	if sub.Gid != 50 || sub.Mode&syscall.S_ISGID == 0 {
		t.Fatalf("subdir of set-group-ID dir: gid %d mode %#o", sub.Gid, sub.Mode)
	}
	if err := v.Unlink(ctx, user, RootIno, "mine"); err != nil {
		t.Fatal(err)
	}
}

func TestQuota(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.volume(t, "q", VolumeConfig{Quota: 100 << 10})
	a := must[Attr](t)(v.Mknod(ctx, nil, RootIno, "f", syscall.S_IFREG|0o644, 0))
	h := must[*Handle](t)(v.Open(ctx, nil, a.Ino, syscall.O_RDWR))
	defer h.Release(ctx)
	must[int](t)(h.Write(ctx, make([]byte, 90<<10), 0))
	if err := h.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	must[int](t)(h.Write(ctx, make([]byte, 20<<10), 90<<10))
	wantErrno(t, h.Flush(ctx), syscall.EDQUOT)
	st := must[StatFS](t)(v.StatFS(ctx))
	if st.Blocks*uint64(st.BlockSize) != 100<<10 || st.UsedBytes != 90<<10 {
		t.Fatalf("statfs %+v", st)
	}
}

// TestCorruptChunk checks that a damaged chunk gives EIO for its range
// only, that fsck reports it and that repair turns it into a hole.
func TestCorruptChunk(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.volume(t, "c", VolumeConfig{})
	write := func(name string, data []byte) Ino {
		a := must[Attr](t)(v.Mknod(ctx, nil, RootIno, name, syscall.S_IFREG|0o644, 0))
		h := must[*Handle](t)(v.Open(ctx, nil, a.Ino, syscall.O_RDWR))
		must[int](t)(h.Write(ctx, data, 0))
		if err := h.Release(ctx); err != nil {
			t.Fatal(err)
		}
		return a.Ino
	}
	bad := write("bad", bytes.Repeat([]byte{1}, 3000))
	good := write("good", bytes.Repeat([]byte{2}, 3000))
	if err := e.fs.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	var files []string
	err := filepath.Walk(filepath.Join(e.dir, "chunks"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) != 2 {
		t.Fatalf("chunk files %v, %v", files, err)
	}
	// Find bad's chunk: the one whose damage breaks reading "bad".
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(raw, []byte{1, 1, 1, 1}) {
			continue
		}
		raw[len(raw)-1] ^= 0xff
		if err := os.WriteFile(p, raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	read := func(ino Ino) error {
		h := must[*Handle](t)(v.Open(ctx, nil, ino, syscall.O_RDONLY))
		defer h.Release(ctx)
		_, err := h.Read(ctx, make([]byte, 4096), 0)
		return err
	}
	wantErrno(t, read(bad), syscall.EIO)
	if err := read(good); err != nil {
		t.Fatal(err)
	}
	checkFsck(t, e, 1)
	if _, err := e.fs.Fsck(ctx, FsckOptions{Chunks: e.store, Repair: true}); err != nil {
		t.Fatal(err)
	}
	checkFsck(t, e, 0)
	if err := read(bad); err != nil {
		t.Fatalf("after repair: %v", err)
	}
}

// TestCompaction fragments a sparse file with small random writes and
// checks that closing it compacts the data runs into few extents, keeps
// the holes and the content.
func TestCompaction(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.volume(t, "cmp", VolumeConfig{})
	a := must[Attr](t)(v.Mknod(ctx, nil, RootIno, "f", syscall.S_IFREG|0o644, 0))
	h := must[*Handle](t)(v.Open(ctx, nil, a.Ino, syscall.O_RDWR))
	rng := rand.New(rand.NewPCG(3, 4))
	var m model
	const span = 1 << 20
	for _, base := range []int{0, 4 * span} { // two dense runs around a hole
		p := make([]byte, span)
		must[int](t)(h.Write(ctx, p, int64(base)))
		m.write(p, base)
	}
	for i := range 2000 {
		p := make([]byte, 512)
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		off := rng.IntN(span - len(p))
		if i%2 == 1 {
			off += 4 * span // a second run after a hole
		}
		must[int](t)(h.Write(ctx, p, int64(off)))
		m.write(p, off)
		if i%100 == 0 {
			if err := h.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := h.Release(ctx); err != nil {
		t.Fatal(err)
	}
	e.fs.bg.Wait()
	h = must[*Handle](t)(v.Open(ctx, nil, a.Ino, syscall.O_RDONLY))
	defer h.Release(ctx)
	if n := len(h.f.ext); n > 2*(2*span/testParams.Avg)+2 {
		t.Fatalf("%d extents after compaction", n)
	}
	if got := readAll(t, h, len(m)); !bytes.Equal(got, m) {
		t.Fatal("compaction changed the content")
	}
	if st := must[Attr](t)(v.GetAttr(ctx, a.Ino)); st.Blocks*512 > 3*span {
		t.Fatalf("holes filled: %d blocks", st.Blocks)
	}
	checkFsck(t, e, 0)
}
