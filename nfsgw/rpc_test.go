package nfsgw

import (
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cairn-storage/cairn/fs"
)

// TestRPCErrors checks that refusals are encoded as RFC 5531 says, so
// that clients (libnfs in particular) can decode them.
func TestRPCErrors(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	c := dialRaw(t, e.addr, "")

	if rep := c.call(123456, 1, 0, nil); rep.denied || rep.stat != acceptProgUnavail {
		t.Errorf("unknown program: %+v", rep)
	}
	rep := c.call(progNFS, 2, 0, nil)
	if rep.denied || rep.stat != acceptProgMismatch {
		t.Fatalf("NFSv2: %+v", rep)
	}
	if lo, hi := rep.body.uint32(), rep.body.uint32(); lo != 3 || hi != 3 || rep.body.err != nil {
		t.Errorf("NFS versions %d-%d, want 3-3", lo, hi)
	}
	if rep := c.call(progNFS, 3, 99, nil); rep.denied || rep.stat != acceptProcUnavail {
		t.Errorf("unknown procedure: %+v", rep)
	}
	if rep := c.call(progMount, 3, 1, func(w *xdrWriter) { w.uint32(5000) }); rep.stat != acceptGarbageArgs {
		t.Errorf("MNT with a truncated path: %+v", rep)
	}
	if rep := c.call(progNFS, 3, 1, func(w *xdrWriter) { w.uint32(10) }); rep.stat != acceptGarbageArgs {
		t.Errorf("GETATTR with a truncated handle: %+v", rep)
	}
	rep = c.call(progPortmap, 4, 0, nil)
	if rep.stat != acceptProgMismatch || rep.body.uint32() != 2 || rep.body.uint32() != 2 {
		t.Errorf("rpcbind v4: %+v", rep)
	}

	// A call of RPC version 3 is denied with RPC_MISMATCH 2-2.
	w := c.callHeader(77, progNFS, 3, 0)
	w.b[8+3] = 3
	r := xdrReader{b: c.roundTrip(w.b)}
	if r.uint32() != 77 || r.uint32() != msgReply || r.uint32() != msgDenied ||
		r.uint32() != rejectRPCMismatch || r.uint32() != 2 || r.uint32() != 2 || r.err != nil {
		t.Errorf("RPC version 3 not refused with RPC_MISMATCH")
	}
	// An unknown credential flavor (RPCSEC_GSS) is refused as too weak.
	w = c.callHeader(78, progNFS, 3, 0)
	w.b[24+3] = 6
	r = xdrReader{b: c.roundTrip(w.b)}
	if r.uint32() != 78 || r.uint32() != msgReply || r.uint32() != msgDenied ||
		r.uint32() != rejectAuthError || r.uint32() != authTooWeak || r.err != nil {
		t.Errorf("RPCSEC_GSS not refused with AUTH_TOOWEAK")
	}
	// The connection still works after all that.
	if rep := c.call(progNFS, 3, 0, nil); rep.denied || rep.stat != acceptSuccess {
		t.Errorf("NULL after errors: %+v", rep)
	}
	n := testutil.ToFloat64(e.srv.metrics.calls.WithLabelValues("nfs", "Null", "OK"))
	if n != 1 {
		t.Errorf("Null calls counted %v, want 1", n)
	}
	if n := testutil.CollectAndCount(e.srv.metrics.latency); n < 2 {
		t.Errorf("latency histograms for %d procedures, want at least 2", n)
	}
}

// TestWildcardExport exports every volume, including one created after
// the gateway started.
func TestWildcardExport(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true}, func(c *Config) { c.Exports[0].Volume = "*" })
	if _, err := e.fsys.CreateVolume(t.Context(), "later", fs.VolumeConfig{}); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, e.addr, "")
	rep := c.call(progMount, 3, 5, nil)
	var dirs []string
	for rep.body.bool() {
		dirs = append(dirs, rep.body.string(maxMountPath))
		rep.body.bool()
	}
	if len(dirs) != 2 || dirs[0] != "/later" || dirs[1] != "/vol" {
		t.Errorf("exports %q", dirs)
	}
	st, fh := c.mount("/later")
	if st != 0 {
		t.Fatalf("MNT /later: %d", st)
	}
	if st, _, _ := c.getattr(fh); st != 0 {
		t.Errorf("GETATTR on the later volume: %d", st)
	}
}

// TestMountExport checks the procedure libnfs calls first.
func TestMountExport(t *testing.T) {
	e := newEnv(t, Export{AllowedNets: nets("127.0.0.0/8", "10.1.0.0/16")})
	c := dialRaw(t, e.addr, "")
	rep := c.call(progMount, 3, 5, nil)
	if rep.denied || rep.stat != acceptSuccess {
		t.Fatalf("EXPORT: %+v", rep)
	}
	r := &rep.body
	var dirs []string
	var groups []string
	for r.bool() {
		dirs = append(dirs, r.string(maxMountPath))
		for r.bool() {
			groups = append(groups, r.string(maxMountPath))
		}
	}
	if r.err != nil || len(r.b) != 0 {
		t.Fatalf("EXPORT reply does not decode")
	}
	if len(dirs) != 1 || dirs[0] != "/vol" || len(groups) != 2 || groups[0] != "127.0.0.0/8" {
		t.Errorf("exports %q groups %q", dirs, groups)
	}

	if st, _ := c.mount("/missing"); st != 2 {
		t.Errorf("MNT /missing: status %d, want MNT3ERR_NOENT", st)
	}
	if st, _ := c.mount("/"); st != 2 {
		t.Errorf("MNT /: status %d, want MNT3ERR_NOENT", st)
	}
	st, fh := c.mount("/vol")
	if st != 0 || len(fh) != handleSize {
		t.Fatalf("MNT /vol: status %d, handle %x", st, fh)
	}
	rep = c.call(progMount, 3, 2, nil) // DUMP
	if !rep.body.bool() || rep.body.string(255) != "127.0.0.1" || rep.body.string(1024) != "/vol" {
		t.Errorf("DUMP does not list the mount")
	}
	c.call(progMount, 3, 3, func(w *xdrWriter) { w.string("/vol") }) // UMNT
	if rep := c.call(progMount, 3, 2, nil); rep.body.bool() {
		t.Errorf("DUMP lists a mount after UMNT")
	}
}

// TestMountSubdir mounts a directory inside a volume, as csi-driver-nfs's
// subDir does.
func TestMountSubdir(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	c := dialRaw(t, e.addr, "")
	_, root := c.mount("/vol")
	st, _ := c.nfs(9, func(w *xdrWriter) { w.opaque(root); w.string("sub"); w.b = append(w.b, make([]byte, 24)...) })
	if st != 0 {
		t.Fatalf("MKDIR: %d", st)
	}
	st, fh := c.mount("/vol/sub/")
	if st != 0 {
		t.Fatalf("MNT /vol/sub: %d", st)
	}
	if _, sub := c.lookup(root, "sub"); string(sub) != string(fh) {
		t.Errorf("MNT /vol/sub gave another handle than LOOKUP")
	}
	if st, _ := c.mount("/vol/nope"); st != 2 {
		t.Errorf("MNT of a missing subdirectory: %d", st)
	}
}

// TestPortmapper checks GETPORT and DUMP of the built-in portmapper.
func TestPortmapper(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.srv.ServePortmapper(l)
	c := dialRaw(t, l.Addr().String(), "")
	for _, prog := range []uint32{progNFS, progMount} {
		rep := c.call(progPortmap, 2, 3, func(w *xdrWriter) { w.uint32(prog); w.uint32(3); w.uint32(6); w.uint32(0) })
		if port := rep.body.uint32(); port != uint32(e.port) {
			t.Errorf("GETPORT %d: %d, want %d", prog, port, e.port)
		}
	}
	rep := c.call(progPortmap, 2, 3, func(w *xdrWriter) { w.uint32(progNFS); w.uint32(3); w.uint32(17); w.uint32(0) })
	if port := rep.body.uint32(); port != 0 {
		t.Errorf("GETPORT NFS over UDP: %d, want 0", port)
	}
	rep = c.call(progPortmap, 2, 4, nil)
	n := 0
	for rep.body.bool() {
		rep.body.uint32()
		rep.body.uint32()
		rep.body.uint32()
		rep.body.uint32()
		n++
	}
	if n != 3 || rep.body.err != nil {
		t.Errorf("DUMP listed %d mappings, want 3", n)
	}
}
