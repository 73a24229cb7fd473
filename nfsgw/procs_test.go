package nfsgw

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"

	nfsc "github.com/willscott/go-nfs-client/nfs"
	nfsrpc "github.com/willscott/go-nfs-client/nfs/rpc"

	"github.com/cairn-storage/cairn/fs"
)

// TestClientOtherProcs drives, through go-nfs-client's RPC layer, the
// procedures its Target has no method for: NULL, MKNOD, READDIR, FSSTAT,
// PATHCONF, and WRITE UNSTABLE followed by COMMIT.
func TestClientOtherProcs(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	c := mountClient(t, e, 0, 0)

	type nullArgs struct{ nfsrpc.Header }
	if st, _ := c.call(&nullArgs{c.header(0)}); st != 0 {
		// NULL has no results: the "status" read is past the end.
		t.Logf("NULL: %d", st)
	}

	type mknodArgs struct {
		nfsrpc.Header
		Where nfsc.Diropargs3
		Type  uint32
		Attr  nfsc.Sattr3
		Spec  [2]uint32
	}
	st, r := c.call(&mknodArgs{Header: c.header(11), Where: nfsc.Diropargs3{FH: c.root, Filename: "tty"},
		Type: nf3Chr, Attr: nfsc.Sattr3{Mode: nfsc.SetMode{SetIt: true, Mode: 0o620}}, Spec: [2]uint32{4, 1}})
	if st != 0 {
		t.Fatalf("mknod chr: %d", st)
	}
	r.bool()
	r.opaque(maxFH)
	if a := readPostOp(r); a == nil || a.typ != nf3Chr || a.mode != 0o620 {
		t.Errorf("mknod chr attributes: %+v", a)
	}
	type mknodFifo struct {
		nfsrpc.Header
		Where nfsc.Diropargs3
		Type  uint32
		Attr  nfsc.Sattr3
	}
	if st, _ := c.call(&mknodFifo{Header: c.header(11), Where: nfsc.Diropargs3{FH: c.root, Filename: "fifo"}, Type: nf3Fifo}); st != 0 {
		t.Errorf("mknod fifo: %d", st)
	}
	if st, _ := c.call(&mknodFifo{Header: c.header(11), Where: nfsc.Diropargs3{FH: c.root, Filename: "reg"}, Type: nf3Reg}); st != nfsc.NFS3ErrBadType {
		t.Errorf("mknod of a regular file: %d, want BADTYPE", st)
	}

	type readdirArgs struct {
		nfsrpc.Header
		FH     []byte
		Cookie uint64
		Verf   uint64
		Count  uint32
	}
	st, r = c.call(&readdirArgs{Header: c.header(16), FH: c.root, Count: 4096})
	if st != 0 {
		t.Fatalf("readdir: %d", st)
	}
	readPostOp(r)
	r.uint64()
	var names []string
	for r.bool() {
		r.uint64()
		names = append(names, r.string(255))
		r.uint64()
	}
	if eof := r.bool(); !eof || r.err != nil || fmt.Sprint(names) != "[. .. fifo tty]" && fmt.Sprint(names) != "[. .. tty fifo]" {
		t.Errorf("readdir: %q eof=%v err=%v", names, eof, r.err)
	}
	if st, _ := c.call(&readdirArgs{Header: c.header(16), FH: c.root, Count: 20}); st != nfsc.NFS3ErrTooSmall {
		t.Errorf("readdir with a tiny count: %d, want TOOSMALL", st)
	}

	type fhArgs struct {
		nfsrpc.Header
		FH []byte
	}
	st, r = c.call(&fhArgs{c.header(18), c.root})
	readPostOp(r)
	if tbytes, fbytes := r.uint64(), r.uint64(); st != 0 || tbytes != 1<<50 || fbytes == 0 {
		t.Errorf("fsstat: %d total %d free %d", st, tbytes, fbytes)
	}
	st, r = c.call(&fhArgs{c.header(20), c.root})
	readPostOp(r)
	if linkmax, namemax := r.uint32(), r.uint32(); st != 0 || linkmax != linkMax || namemax != 255 {
		t.Errorf("pathconf: %d linkmax %d namemax %d", st, linkmax, namemax)
	}

	// WRITE UNSTABLE, then COMMIT: the verifiers match and the data is
	// visible before and after.
	c.writeFile("/u", nil)
	fh := c.fh("/u")
	type writeArgs struct {
		nfsrpc.Header
		FH     []byte
		Offset uint64
		Count  uint32
		How    uint32
		Data   []byte
	}
	st, r = c.call(&writeArgs{c.header(7), fh, 0, 5, unstable, []byte("hello")})
	readWcc(r)
	count, committed, verf := r.uint32(), r.uint32(), r.uint64()
	if st != 0 || count != 5 || committed != unstable {
		t.Fatalf("unstable write: %d count %d committed %d", st, count, committed)
	}
	type commitArgs struct {
		nfsrpc.Header
		FH     []byte
		Offset uint64
		Count  uint32
	}
	st, r = c.call(&commitArgs{c.header(21), fh, 0, 0})
	if a := readWcc(r); st != 0 || a == nil || a.size != 5 {
		t.Fatalf("commit: %d %+v", st, a)
	}
	if v := r.uint64(); v != verf {
		t.Errorf("commit verifier %x, write verifier %x", v, verf)
	}
	if got := c.readFile("/u"); string(got) != "hello" {
		t.Errorf("read %q", got)
	}
}

// TestReaddirplusPaging lists a directory of 10,000 entries, which takes
// hundreds of READDIRPLUS calls, and checks that each entry comes once.
func TestReaddirplusPaging(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	v := e.volume()
	ctx := context.Background()
	dir, err := v.Mkdir(ctx, nil, fs.RootIno, "big", 0o755)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10_000
	for i := range n {
		if _, err := v.Mknod(ctx, nil, dir.Ino, fmt.Sprintf("file-%05d", i), syscall.S_IFREG|0o644, 0); err != nil {
			t.Fatal(err)
		}
	}
	c := mountClient(t, e, 0, 0)
	entries, err := c.tgt.ReadDirPlus("/big")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.FileName] {
			t.Fatalf("%s listed twice", e.FileName)
		}
		if !e.Attr.IsSet || !e.Handle.IsSet || e.Attr.Attr.Fileid != e.FileId {
			t.Fatalf("%s: attributes or handle missing", e.FileName)
		}
		seen[e.FileName] = true
	}
	if len(seen) != n {
		t.Fatalf("listed %d entries, want %d", len(seen), n)
	}
}

// TestLargeSparseFile writes past 4 GiB: offsets and sizes must not be
// truncated to 32 bits, and the hole must use no space.
func TestLargeSparseFile(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	c := mountClient(t, e, 0, 0)
	f, err := c.tgt.OpenFile("/big", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	const off = 5<<30 + 123
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("past four gigabytes")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(4<<30-3, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("straddle")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := c.tgt.Getattr("/big")
	if err != nil {
		t.Fatal(err)
	}
	if a.Filesize != off+19 || a.Used > 1<<20 {
		t.Errorf("size %d used %d, want %d and little", a.Filesize, a.Used, uint64(off+19))
	}
	r, err := c.tgt.Open("/big")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		off  int64
		want string
	}{{off, "past four gigabytes"}, {4<<30 - 3, "straddle"}, {1 << 30, "\x00\x00\x00\x00"}} {
		buf := make([]byte, len(tc.want))
		if _, err := r.ReadAt(buf, tc.off); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, []byte(tc.want)) {
			t.Errorf("at %d: %q, want %q", tc.off, buf, tc.want)
		}
	}
}

// TestCreateModes checks GUARDED and EXCLUSIVE creation: a retransmitted
// exclusive create succeeds, another client's fails.
func TestCreateModes(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	c := dialRaw(t, e.addr, "")
	_, root := c.mount("/vol")
	guarded := func(w *xdrWriter) {
		w.opaque(root)
		w.string("g")
		w.uint32(createGuarded)
		w.b = append(w.b, make([]byte, 24)...)
	}
	if st, _ := c.nfs(8, guarded); st != 0 {
		t.Fatalf("guarded create: %d", st)
	}
	if st, _ := c.nfs(8, guarded); st != 17 {
		t.Errorf("guarded create of an existing file: %d, want EXIST", st)
	}
	if st, _ := c.nfs(8, createArgs(root, "g")); st != 0 {
		t.Errorf("unchecked create of an existing file: %d", st)
	}
	exclusive := func(verf uint64) func(*xdrWriter) {
		return func(w *xdrWriter) { w.opaque(root); w.string("x"); w.uint32(createExclusive); w.uint64(verf) }
	}
	st, r := c.nfs(8, exclusive(0x1234_5678_9abc_def0))
	r.bool()
	first := r.opaque(maxFH)
	if st != 0 {
		t.Fatalf("exclusive create: %d", st)
	}
	st, r = c.nfs(8, exclusive(0x1234_5678_9abc_def0))
	r.bool()
	if again := r.opaque(maxFH); st != 0 || string(again) != string(first) {
		t.Errorf("retransmitted exclusive create: %d", st)
	}
	if st, _ := c.nfs(8, exclusive(1)); st != 17 {
		t.Errorf("exclusive create with another verifier: %d, want EXIST", st)
	}
	if st, fh := c.lookup(root, "."); st != 0 || string(fh) != string(root) {
		t.Errorf("LOOKUP .: %d", st)
	}
	if st, fh := c.lookup(root, ".."); st != 0 || string(fh) != string(root) {
		t.Errorf("LOOKUP .. at the root: %d", st)
	}
	if _, err := e.volume().Mkdir(context.Background(), nil, fs.RootIno, "sub", 0o755); err != nil {
		t.Fatal(err)
	}
	if st, sub := c.lookup(root, "sub"); st != 0 {
		t.Errorf("LOOKUP sub: %d", st)
	} else if st, fh := c.lookup(sub, ".."); st != 0 || string(fh) != string(root) {
		t.Errorf("LOOKUP .. below the root: %d", st)
	}
	if st, _ := c.lookup(root, "nope"); st != 2 {
		t.Errorf("LOOKUP of a missing name: %d", st)
	}
	if st, _ := c.lookup(first, "x"); st != 20 {
		t.Errorf("LOOKUP in a file: %d, want NOTDIR", st)
	}
	if st, _ := c.lookup(root, strings.Repeat("n", 300)); st != 63 {
		t.Errorf("LOOKUP of a long name: %d, want NAMETOOLONG", st)
	}
}
