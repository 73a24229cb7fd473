package nfsgw

import (
	"testing"
)

const (
	nfs3ErrPerm      = 1
	nfs3ErrNoEnt     = 2
	nfs3ErrAcces     = 13
	nfs3ErrROFS      = 30
	nfs3ErrStale     = 70
	nfs3ErrBadHandle = 10001
	mnt3ErrAcces     = 13
)

// createArgs encodes CREATE UNCHECKED of dir/name with mode 0644.
func createArgs(dir []byte, name string) func(*xdrWriter) {
	return func(w *xdrWriter) {
		w.opaque(dir)
		w.string(name)
		w.uint32(createUnchecked)
		w.bool(true)
		w.uint32(0o644)
		w.b = append(w.b, make([]byte, 20)...) // uid, gid, size, atime, mtime unset
	}
}

// writeArgs encodes a FILE_SYNC WRITE of data at 0.
func writeArgs(fh []byte, data string) func(*xdrWriter) {
	return func(w *xdrWriter) {
		w.opaque(fh)
		w.uint64(0)
		w.uint32(uint32(len(data)))
		w.uint32(fileSync)
		w.opaque([]byte(data))
	}
}

// TestRestart checks that handles survive a gateway restart over the
// same data and secret, and that an altered or deleted one is refused.
func TestRestart(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	c := dialRaw(t, e.addr, "")
	_, root := c.mount("/vol")
	st, r := c.nfs(8, createArgs(root, "kept"))
	if st != 0 || !r.bool() {
		t.Fatalf("create: %d", st)
	}
	file := r.opaque(maxFH)
	if st, _ := c.nfs(7, writeArgs(file, "survives")); st != 0 {
		t.Fatalf("write: %d", st)
	}
	_, gone := c.nfs(8, createArgs(root, "gone"))
	gone.bool()
	goneFH := gone.opaque(maxFH)
	if st, _ := c.nfs(12, func(w *xdrWriter) { w.opaque(root); w.string("gone") }); st != 0 {
		t.Fatalf("remove: %d", st)
	}

	e.restart()
	c = dialRaw(t, e.addr, "")
	if st, size, _ := c.getattr(file); st != 0 || size != 8 {
		t.Fatalf("GETATTR with a handle from before the restart: status %d size %d", st, size)
	}
	st, r = c.nfs(6, func(w *xdrWriter) { w.opaque(file); w.uint64(0); w.uint32(100) })
	readPostOp(r)
	if n, eof, data := r.uint32(), r.bool(), r.opaque(100); st != 0 || n != 8 || !eof || string(data) != "survives" {
		t.Errorf("READ after restart: %d %q", st, data)
	}
	if st, fh := c.lookup(root, "kept"); st != 0 || string(fh) != string(file) {
		t.Errorf("LOOKUP after restart gives another handle")
	}
	if st, _, _ := c.getattr(goneFH); st != nfs3ErrStale {
		t.Errorf("deleted file's handle: %d, want STALE", st)
	}
	for bit := 0; bit < len(file)*8; bit += 7 {
		bad := append([]byte(nil), file...)
		bad[bit/8] ^= 1 << (bit % 8)
		if st, _, _ := c.getattr(bad); st != nfs3ErrBadHandle {
			t.Fatalf("handle with bit %d flipped: %d, want BADHANDLE", bit, st)
		}
	}
	if st, _, _ := c.getattr(file[:20]); st != nfs3ErrBadHandle {
		t.Errorf("truncated handle: %d, want BADHANDLE", st)
	}

	// Another gateway with another secret refuses the handles.
	e.addr = ""

	e.stop()
	e.cfg.Secret = []byte("another secret of the same size")
	e.start()
	c = dialRaw(t, e.addr, "")
	if st, _, _ := c.getattr(file); st != nfs3ErrBadHandle {
		t.Errorf("handle under another secret: %d, want BADHANDLE", st)
	}
}

// TestRestartSameClient restarts the gateway under a mounted
// go-nfs-client, which reconnects and goes on with the handles it holds.
func TestRestartSameClient(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	c := mountClient(t, e, 0, 0)
	c.writeFile("/f", []byte("before the restart"))
	f, err := c.tgt.Open("/f")
	if err != nil {
		t.Fatal(err)
	}
	fh := c.fh("/f")
	e.restart()
	buf := make([]byte, 64)
	n, err := f.ReadAt(buf, 0)
	if string(buf[:n]) != "before the restart" {
		t.Fatalf("read through a held handle after the restart: %q, %v", buf[:n], err)
	}
	if a, err := c.tgt.GetAttr(fh); err != nil || a.Filesize != 18 {
		t.Errorf("GETATTR through a held handle after the restart: %+v, %v", a, err)
	}
	c.writeFile("/g", []byte("after"))
	if got := c.readFile("/g"); string(got) != "after" {
		t.Errorf("new file after the restart: %q", got)
	}
}

// TestReadOnly checks that a read-only export refuses every change.
func TestReadOnly(t *testing.T) {
	e := newEnv(t, Export{ReadOnly: true})
	c := dialRaw(t, e.addr, "")
	_, root := c.mount("/vol")
	if st, _ := c.nfs(8, createArgs(root, "x")); st != nfs3ErrROFS {
		t.Errorf("CREATE: %d, want ROFS", st)
	}
	if st, _ := c.nfs(9, func(w *xdrWriter) { w.opaque(root); w.string("d"); w.b = append(w.b, make([]byte, 24)...) }); st != nfs3ErrROFS {
		t.Errorf("MKDIR: %d, want ROFS", st)
	}
	if st, _ := c.nfs(2, func(w *xdrWriter) {
		w.opaque(root)
		w.bool(true)
		w.uint32(0o777)
		w.b = append(w.b, make([]byte, 24)...)
	}); st != nfs3ErrROFS {
		t.Errorf("SETATTR: %d, want ROFS", st)
	}
	// A file made behind the gateway's back can be read, not written.
	v := e.volume()
	if _, err := v.Mknod(t.Context(), nil, 1, "f", 0o100644, 0); err != nil {
		t.Fatal(err)
	}
	_, fh := c.lookup(root, "f")
	if st, _ := c.nfs(7, writeArgs(fh, "no")); st != nfs3ErrROFS {
		t.Errorf("WRITE: %d, want ROFS", st)
	}
	if st, _ := c.nfs(12, func(w *xdrWriter) { w.opaque(root); w.string("f") }); st != nfs3ErrROFS {
		t.Errorf("REMOVE: %d, want ROFS", st)
	}
	st, r := c.nfs(4, func(w *xdrWriter) { w.opaque(fh); w.uint32(0x3f) })
	readPostOp(r)
	if got := r.uint32(); st != 0 || got != access3Read {
		t.Errorf("ACCESS on a read-only export: %#x", got)
	}
}

// TestSquash checks root squashing (the default) to chosen anonymous ids,
// all squashing and AUTH_SYS groups.
func TestSquash(t *testing.T) {
	e := newEnv(t, Export{AnonUID: 4000, AnonGID: 4001})
	v := e.volume()
	// A world-writable directory, so the squashed root can create in it.
	mode := uint32(0o777)
	d, err := v.Mkdir(t.Context(), nil, 1, "pub", mode)
	if err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, e.addr, "")
	_, root := c.mount("/vol")
	if st, _ := c.nfs(8, createArgs(root, "x")); st != nfs3ErrAcces {
		t.Errorf("squashed root creating in a root-owned 0755 directory: %d, want ACCES", st)
	}
	_, pub := c.lookup(root, "pub")
	st, r := c.nfs(8, createArgs(pub, "mine"))
	r.bool()
	r.opaque(maxFH)
	if a := readPostOp(r); st != 0 || a == nil || a.uid != 4000 || a.gid != 4001 {
		t.Errorf("file created by squashed root: %d %+v", st, a)
	}
	_ = d

	// A user who is in the file's group through AUTH_SYS groups may write.
	c.cred = &authSys{UID: 1234, GID: 1234, GIDs: []uint32{4001}}
	_, fh := c.lookup(pub, "mine")
	if st, _ := c.nfs(2, func(w *xdrWriter) { // chmod 0664 as owner (4000) fails for 1234
		w.opaque(fh)
		w.bool(true)
		w.uint32(0o664)
		w.b = append(w.b, make([]byte, 24)...)
	}); st != 1 {
		t.Errorf("chmod by a non-owner: %d, want PERM", st)
	}
	c.cred = &authSys{UID: 4000, GID: 4000}
	c.nfs(2, func(w *xdrWriter) {
		w.opaque(fh)
		w.bool(true)
		w.uint32(0o664)
		w.b = append(w.b, make([]byte, 24)...)
	})
	c.cred = &authSys{UID: 1234, GID: 1234, GIDs: []uint32{4001}}
	if st, _ := c.nfs(7, writeArgs(fh, "group")); st != 0 {
		t.Errorf("write by a group member: %d", st)
	}
	c.cred = &authSys{UID: 1234, GID: 1234}
	if st, _ := c.nfs(7, writeArgs(fh, "other")); st != nfs3ErrAcces {
		t.Errorf("write by another user: %d, want ACCES", st)
	}

	// All squash maps every user.
	e2 := newEnv(t, Export{AllSquash: true})
	c2 := dialRaw(t, e2.addr, "")
	c2.cred = &authSys{UID: 1234, GID: 1234}
	_, root2 := c2.mount("/vol")
	v2 := e2.volume()
	if _, err := v2.Mkdir(t.Context(), nil, 1, "pub", 0o777); err != nil {
		t.Fatal(err)
	}
	_, pub2 := c2.lookup(root2, "pub")
	st, r = c2.nfs(8, createArgs(pub2, "f"))
	r.bool()
	r.opaque(maxFH)
	if a := readPostOp(r); st != 0 || a == nil || a.uid != nobody || a.gid != nobody {
		t.Errorf("file created under all squash: %d %+v", st, a)
	}
}

// TestStoredSecret checks that without a configured secret the gateway
// uses the filesystem's, so handles survive a restart with no setup.
func TestStoredSecret(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true}, func(c *Config) { c.Secret = nil })
	c := dialRaw(t, e.addr, "")
	_, root := c.mount("/vol")
	e.restart()
	c = dialRaw(t, e.addr, "")
	if st, _, _ := c.getattr(root); st != 0 {
		t.Errorf("root handle after a restart with the stored secret: %d", st)
	}
	if st, _, _ := c.getattr(newHandleCodec(testSecret).encode(fileID{Vol: 1, Ino: 1, Gen: 1})); st != nfs3ErrBadHandle {
		t.Errorf("handle signed with another secret: %d, want BADHANDLE", st)
	}
}
