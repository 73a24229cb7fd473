package nfsgw

import (
	"testing"
)

// handleSet holds handles a client inside an export's networks learned
// legitimately, for replaying them from elsewhere.
type handleSet struct {
	root, file, dir, link, victim []byte
	snapDir, snapFile             []byte // .snapshots and a file of snapshot s1
}

// sattrNone is a sattr3 that sets nothing (six "don't set" arms).
func sattrNone(w *xdrWriter) { w.b = append(w.b, make([]byte, 24)...) }

// handleCalls are a call of every NFSv3 procedure that takes a handle
// (all but NULL), each valid for a client allowed to make it; in this
// order each succeeds.
var handleCalls = []struct {
	name string
	proc uint32
	args func(h *handleSet) func(*xdrWriter)
}{
	{"GETATTR", 1, func(h *handleSet) func(*xdrWriter) { return func(w *xdrWriter) { w.opaque(h.file) } }},
	{"SETATTR", 2, func(h *handleSet) func(*xdrWriter) {
		return func(w *xdrWriter) {
			w.opaque(h.file)
			w.bool(true) // mode
			w.uint32(0o666)
			w.b = append(w.b, make([]byte, 24)...) // uid, gid, size, atime, mtime unset; no guard
		}
	}},
	{"LOOKUP", 3, func(h *handleSet) func(*xdrWriter) { return func(w *xdrWriter) { w.opaque(h.root); w.string("f") } }},
	{"ACCESS", 4, func(h *handleSet) func(*xdrWriter) { return func(w *xdrWriter) { w.opaque(h.file); w.uint32(0x3f) } }},
	{"READLINK", 5, func(h *handleSet) func(*xdrWriter) { return func(w *xdrWriter) { w.opaque(h.link) } }},
	{"READ", 6, func(h *handleSet) func(*xdrWriter) {
		return func(w *xdrWriter) { w.opaque(h.file); w.uint64(0); w.uint32(100) }
	}},
	{"WRITE", 7, func(h *handleSet) func(*xdrWriter) { return writeArgs(h.file, "overwritten") }},
	{"CREATE", 8, func(h *handleSet) func(*xdrWriter) { return createArgs(h.root, "new") }},
	{"MKDIR", 9, func(h *handleSet) func(*xdrWriter) {
		return func(w *xdrWriter) { w.opaque(h.root); w.string("newdir"); sattrNone(w) }
	}},
	{"SYMLINK", 10, func(h *handleSet) func(*xdrWriter) {
		return func(w *xdrWriter) { w.opaque(h.root); w.string("newlink"); sattrNone(w); w.string("f") }
	}},
	{"MKNOD", 11, func(h *handleSet) func(*xdrWriter) {
		return func(w *xdrWriter) { w.opaque(h.root); w.string("fifo"); w.uint32(nf3Fifo); sattrNone(w) }
	}},
	{"LINK", 15, func(h *handleSet) func(*xdrWriter) {
		return func(w *xdrWriter) { w.opaque(h.file); w.opaque(h.dir); w.string("f2") }
	}},
	{"READDIR", 16, func(h *handleSet) func(*xdrWriter) {
		return func(w *xdrWriter) { w.opaque(h.root); w.uint64(0); w.uint64(0); w.uint32(4096) }
	}},
	{"READDIRPLUS", 17, func(h *handleSet) func(*xdrWriter) {
		return func(w *xdrWriter) { w.opaque(h.root); w.uint64(0); w.uint64(0); w.uint32(4096); w.uint32(8192) }
	}},
	{"FSSTAT", 18, func(h *handleSet) func(*xdrWriter) { return func(w *xdrWriter) { w.opaque(h.root) } }},
	{"FSINFO", 19, func(h *handleSet) func(*xdrWriter) { return func(w *xdrWriter) { w.opaque(h.root) } }},
	{"PATHCONF", 20, func(h *handleSet) func(*xdrWriter) { return func(w *xdrWriter) { w.opaque(h.root) } }},
	{"COMMIT", 21, func(h *handleSet) func(*xdrWriter) {
		return func(w *xdrWriter) { w.opaque(h.file); w.uint64(0); w.uint32(0) }
	}},
	{"RENAME", 14, func(h *handleSet) func(*xdrWriter) {
		return func(w *xdrWriter) { w.opaque(h.dir); w.string("f2"); w.opaque(h.root); w.string("g") }
	}},
	{"REMOVE", 12, func(h *handleSet) func(*xdrWriter) {
		return func(w *xdrWriter) { w.opaque(h.root); w.string("victim") }
	}},
	{"RMDIR", 13, func(h *handleSet) func(*xdrWriter) {
		return func(w *xdrWriter) { w.opaque(h.root); w.string("d") }
	}},
	{"GETATTR .snapshots", 1, func(h *handleSet) func(*xdrWriter) { return func(w *xdrWriter) { w.opaque(h.snapDir) } }},
	{"LOOKUP .snapshots/s1", 3, func(h *handleSet) func(*xdrWriter) {
		return func(w *xdrWriter) { w.opaque(h.snapDir); w.string("s1") }
	}},
	{"READ .snapshots/s1/f", 6, func(h *handleSet) func(*xdrWriter) {
		return func(w *xdrWriter) { w.opaque(h.snapFile); w.uint64(0); w.uint32(100) }
	}},
}

// TestReplayFromOutside checks that a client outside an export's
// networks gets nothing with handles it did not get itself: a client at
// 127.0.0.1 (allowed) mounts and learns handles; one at 127.0.0.2 is
// refused at MOUNT, and with ACCES on every NFSv3 procedure when it
// replays those handles, changing nothing. The same calls from the
// allowed client then succeed, so the refusals are not bad arguments.
func TestReplayFromOutside(t *testing.T) {
	snaps := &testSnapshots{}
	e := newEnv(t, Export{NoRootSquash: true, AllowedNets: nets("127.0.0.1/32")},
		func(c *Config) { c.Snapshots = snaps })
	snaps.e = e
	in := dialRaw(t, e.addr, "127.0.0.1")
	h := learnHandles(t, in, snaps)

	out := dialRaw(t, e.addr, "127.0.0.2")
	if st, _ := out.mount("/vol"); st != mnt3ErrAcces {
		t.Errorf("MNT from outside: %d, want MNT3ERR_ACCES", st)
	}
	if rep := out.call(progNFS, 3, 0, nil); rep.denied || rep.stat != acceptSuccess {
		t.Errorf("NULL from outside: %+v (NULL touches nothing and is answered)", rep)
	}
	for _, call := range handleCalls {
		if st, _ := out.nfs(call.proc, call.args(h)); st != nfs3ErrAcces {
			t.Errorf("%s from outside with a replayed handle: %d, want ACCES", call.name, st)
		}
	}
	checkUntouched(t, in, h)

	for _, call := range handleCalls {
		if st, _ := in.nfs(call.proc, call.args(h)); st != 0 {
			t.Errorf("%s from the allowed client: %d, want OK", call.name, st)
		}
	}
	if st, _ := in.lookup(h.root, "victim"); st != nfs3ErrNoEnt {
		t.Errorf("REMOVE from the allowed client left victim: LOOKUP %d", st)
	}
}

// learnHandles builds f, d, l, victim and snapshot s1 in the volume
// through c and returns their handles.
func learnHandles(t *testing.T, c *rawClient, snaps *testSnapshots) *handleSet {
	t.Helper()
	h := &handleSet{}
	var st uint32
	if st, h.root = c.mount("/vol"); st != 0 {
		t.Fatalf("MNT from the allowed client: %d", st)
	}
	h.file = create(t, c, h.root, "f")
	if st, _ := c.nfs(7, writeArgs(h.file, "original")); st != 0 {
		t.Fatalf("WRITE f: %d", st)
	}
	h.victim = create(t, c, h.root, "victim")
	st, r := c.nfs(9, func(w *xdrWriter) { w.opaque(h.root); w.string("d"); sattrNone(w) })
	if st != 0 || !r.bool() {
		t.Fatalf("MKDIR d: %d", st)
	}
	h.dir = r.opaque(maxFH)
	st, r = c.nfs(10, func(w *xdrWriter) { w.opaque(h.root); w.string("l"); sattrNone(w); w.string("f") })
	if st != 0 || !r.bool() {
		t.Fatalf("SYMLINK l: %d", st)
	}
	h.link = r.opaque(maxFH)
	snaps.take(t, "s1")
	if st, h.snapDir = c.lookup(h.root, snapDirName); st != 0 {
		t.Fatalf("LOOKUP .snapshots: %d", st)
	}
	_, s1 := c.lookup(h.snapDir, "s1")
	if st, h.snapFile = c.lookup(s1, "f"); st != 0 {
		t.Fatalf("LOOKUP .snapshots/s1/f: %d", st)
	}
	return h
}

// create makes dir/name through c and returns its handle.
func create(t *testing.T, c *rawClient, dir []byte, name string) []byte {
	t.Helper()
	st, r := c.nfs(8, createArgs(dir, name))
	if st != 0 || !r.bool() {
		t.Fatalf("CREATE %s: %d", name, st)
	}
	return r.opaque(maxFH)
}

// checkUntouched checks, through the allowed client c, that the refused
// calls changed nothing.
func checkUntouched(t *testing.T, c *rawClient, h *handleSet) {
	t.Helper()
	st, r := c.nfs(6, func(w *xdrWriter) { w.opaque(h.file); w.uint64(0); w.uint32(100) })
	readPostOp(r)
	if n, _, data := r.uint32(), r.bool(), r.opaque(100); st != 0 || n != 8 || string(data) != "original" {
		t.Errorf("f after the refused calls: %d %q, want \"original\"", st, data)
	}
	if st, _, mode := c.getattr(h.file); st != 0 || mode&0o777 != 0o644 {
		t.Errorf("f's mode after a refused SETATTR: %d %o, want 644", st, mode&0o777)
	}
	for _, name := range []string{"victim", "d", "f"} {
		if st, _ := c.lookup(h.root, name); st != 0 {
			t.Errorf("%s is gone after the refused calls: LOOKUP %d", name, st)
		}
	}
	for _, name := range []string{"new", "newdir", "newlink", "fifo", "g"} {
		if st, _ := c.lookup(h.root, name); st != nfs3ErrNoEnt {
			t.Errorf("%s exists after the refused calls: LOOKUP %d", name, st)
		}
	}
	if st, _ := c.lookup(h.dir, "f2"); st != nfs3ErrNoEnt {
		t.Errorf("d/f2 exists after a refused LINK: LOOKUP %d", st)
	}
}
