package nfsgw

import (
	"bytes"
	"context"
	"net/netip"
	"testing"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fs/meta/badgerkv"
)

// FuzzDecodeHandle checks that the handle decoder never panics and
// accepts nothing but the handles it made.
func FuzzDecodeHandle(f *testing.F) {
	codec := newHandleCodec(testSecret)
	good := codec.encode(fileID{Vol: 1, Ino: 42, Gen: 1})
	f.Add(good)
	f.Add(good[:handleSize-1])
	f.Add(append(append([]byte(nil), good...), 0))
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, maxFH))
	f.Fuzz(func(t *testing.T, h []byte) {
		id, err := codec.decode(h)
		if err != nil {
			return
		}
		if !bytes.Equal(codec.encode(id), h) {
			t.Fatalf("decoded %x to %+v, which encodes differently", h, id)
		}
	})
}

// FuzzRPC feeds a byte stream through the whole protocol path: record
// marking, the RPC header, credentials and every procedure's argument
// decoding, on a live in-memory filesystem. Malformed input must never
// crash the gateway.
func FuzzRPC(f *testing.F) {
	s, root := newMemServer(f)
	c := &rawClient{cred: &authSys{Machine: "fuzz", GIDs: []uint32{0}}}
	record := func(prog, vers, proc uint32, args func(*xdrWriter)) []byte {
		w := c.callHeader(7, prog, vers, proc)
		if args != nil {
			args(w)
		}
		return append([]byte{0x80, 0, byte(len(w.b) >> 8), byte(len(w.b))}, w.b...)
	}
	fh := func(w *xdrWriter) { w.opaque(root) }
	sattr := func(w *xdrWriter) { w.b = append(w.b, make([]byte, 24)...) }
	seeds := [][]byte{
		record(progMount, 3, 1, func(w *xdrWriter) { w.string("/vol") }),
		record(progMount, 3, 5, nil),
		record(progPortmap, 2, 3, func(w *xdrWriter) { w.uint32(progNFS); w.uint32(3); w.uint32(6); w.uint32(0) }),
		record(progNFS, 3, 1, fh),
		record(progNFS, 3, 2, func(w *xdrWriter) { fh(w); w.bool(true); w.uint32(0o755); w.b = append(w.b, make([]byte, 24)...) }),
		record(progNFS, 3, 3, func(w *xdrWriter) { fh(w); w.string("f") }),
		record(progNFS, 3, 4, func(w *xdrWriter) { fh(w); w.uint32(0x3f) }),
		record(progNFS, 3, 5, fh),
		record(progNFS, 3, 6, func(w *xdrWriter) { fh(w); w.uint64(0); w.uint32(10) }),
		record(progNFS, 3, 7, func(w *xdrWriter) { fh(w); w.uint64(0); w.uint32(3); w.uint32(0); w.opaque([]byte("abc")) }),
		record(progNFS, 3, 8, createArgs(root, "f")),
		record(progNFS, 3, 8, func(w *xdrWriter) { fh(w); w.string("x"); w.uint32(createExclusive); w.uint64(99) }),
		record(progNFS, 3, 9, func(w *xdrWriter) { fh(w); w.string("d"); sattr(w) }),
		record(progNFS, 3, 10, func(w *xdrWriter) { fh(w); w.string("l"); sattr(w); w.string("f") }),
		record(progNFS, 3, 11, func(w *xdrWriter) {
			fh(w)
			w.string("n")
			w.uint32(nf3Chr)
			sattr(w)
			w.uint32(1)
			w.uint32(3)
		}),
		record(progNFS, 3, 12, func(w *xdrWriter) { fh(w); w.string("f") }),
		record(progNFS, 3, 13, func(w *xdrWriter) { fh(w); w.string("d") }),
		record(progNFS, 3, 14, func(w *xdrWriter) { fh(w); w.string("f"); fh(w); w.string("g") }),
		record(progNFS, 3, 15, func(w *xdrWriter) { fh(w); fh(w); w.string("h") }),
		record(progNFS, 3, 16, func(w *xdrWriter) { fh(w); w.uint64(0); w.uint64(0); w.uint32(1000) }),
		record(progNFS, 3, 17, func(w *xdrWriter) { fh(w); w.uint64(0); w.uint64(0); w.uint32(500); w.uint32(2000) }),
		record(progNFS, 3, 18, fh),
		record(progNFS, 3, 19, fh),
		record(progNFS, 3, 20, fh),
		record(progNFS, 3, 21, func(w *xdrWriter) { fh(w); w.uint64(0); w.uint32(0) }),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add(append(seeds[3][:10:10], seeds[4]...))         // a record cut short, then another
	f.Add([]byte{0, 0, 0, 4, 0, 0, 0, 1, 0x80, 0, 0, 0}) // fragments
	crashOnPanic = true
	f.Cleanup(func() { crashOnPanic = false })
	client := netip.MustParseAddrPort("127.0.0.1:700")
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := bytes.NewReader(stream)
		for {
			rec, err := readRecord(r, 1<<16)
			if err != nil {
				return
			}
			s.handleRecord(context.Background(), client, rec)
		}
	})
}

// newMemServer returns a gateway (not listening) over an in-memory
// filesystem with testVolume, and the volume's root handle.
func newMemServer(tb testing.TB) (*Server, []byte) {
	kv, err := badgerkv.Open("", badgerkv.Options{InMemory: true, Logger: quietLogger(),
		BlockCacheSize: 1 << 20, IndexCacheSize: 1 << 20})
	if err != nil {
		tb.Fatal(err)
	}
	store, err := chunks.OpenLocal(tb.TempDir(), chunks.LocalOptions{Logger: quietLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	fsys, err := fs.New(kv, store, fs.Options{Logger: quietLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	info, err := fsys.CreateVolume(context.Background(), testVolume, fs.VolumeConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := New(fsys, Config{Exports: []Export{{Volume: testVolume, NoRootSquash: true}}, Secret: testSecret, Logger: quietLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		s.Close()
		store.Close()
		kv.Close()
	})
	return s, s.handles.encode(fileID{Vol: info.ID, Ino: fs.RootIno, Gen: 1})
}
