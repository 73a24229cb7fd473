package nfsgw

import (
	"bufio"
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"
)

// rawClient speaks ONC RPC with the package's own XDR code, for what the
// go-nfs-client library can't do: choosing the source address, sending
// malformed or unusual calls, and looking at RPC-level replies.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	mu   sync.Mutex
	xid  uint32
	cred *authSys // nil: AUTH_NULL
}

// dialRaw connects to addr, from local (an IP) unless it is "".
func dialRaw(t *testing.T, addr, local string) *rawClient {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return newRawClient(t, conn)
}

// newRawClient speaks over conn as root (AUTH_SYS uid 0), until the test
// ends.
func newRawClient(t *testing.T, conn net.Conn) *rawClient {
	t.Cleanup(func() { conn.Close() })
	return &rawClient{t: t, conn: conn, br: bufio.NewReader(conn), xid: 1000,
		cred: &authSys{Machine: "test", GIDs: []uint32{0}}}
}

// rawReply is a decoded RPC reply.
type rawReply struct {
	denied bool
	stat   uint32 // accept_stat, or reject_stat if denied
	body   xdrReader
}

// callHeader encodes an RPC call header with the client's credentials.
func (c *rawClient) callHeader(xid, prog, vers, proc uint32) *xdrWriter {
	w := &xdrWriter{}
	w.uint32(xid)
	w.uint32(msgCall)
	w.uint32(rpcVersion)
	w.uint32(prog)
	w.uint32(vers)
	w.uint32(proc)
	if c.cred == nil {
		w.uint32(flavorNull)
		w.uint32(0)
	} else {
		cw := &xdrWriter{}
		cw.uint32(c.cred.Stamp)
		cw.string(c.cred.Machine)
		cw.uint32(c.cred.UID)
		cw.uint32(c.cred.GID)
		cw.uint32(uint32(len(c.cred.GIDs)))
		for _, g := range c.cred.GIDs {
			cw.uint32(g)
		}
		w.uint32(flavorSys)
		w.opaque(cw.b)
	}
	w.uint32(flavorNull)
	w.uint32(0)
	return w
}

// call sends one call whose arguments args encodes and returns the reply.
func (c *rawClient) call(prog, vers, proc uint32, args func(w *xdrWriter)) rawReply {
	c.t.Helper()
	c.mu.Lock()
	c.xid++
	xid := c.xid
	c.mu.Unlock()
	w := c.callHeader(xid, prog, vers, proc)
	if args != nil {
		args(w)
	}
	rec := c.roundTrip(w.b)
	r := xdrReader{b: rec}
	if got := r.uint32(); got != xid {
		c.t.Fatalf("reply xid %d, want %d", got, xid)
	}
	if r.uint32() != msgReply {
		c.t.Fatal("not a reply")
	}
	var rep rawReply
	if r.uint32() == msgDenied {
		rep.denied, rep.stat = true, r.uint32()
	} else {
		r.uint32() // verifier
		r.opaque(maxAuthBody)
		rep.stat = r.uint32()
	}
	if r.err != nil {
		c.t.Fatalf("reply header does not decode: %x", rec)
	}
	rep.body = r
	return rep
}

// roundTrip sends one record and returns the next reply record.
func (c *rawClient) roundTrip(rec []byte) []byte {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := binary.BigEndian.AppendUint32(nil, 1<<31|uint32(len(rec)))
	c.conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.conn.Write(append(out, rec...)); err != nil {
		c.t.Fatal(err)
	}
	reply, err := readRecord(c.br, 16<<20)
	if err != nil {
		c.t.Fatal(err)
	}
	return reply
}

// nfs calls an NFSv3 procedure and returns its nfsstat3 and results.
func (c *rawClient) nfs(proc uint32, args func(w *xdrWriter)) (uint32, *xdrReader) {
	c.t.Helper()
	rep := c.call(progNFS, 3, proc, args)
	if rep.denied || rep.stat != acceptSuccess {
		c.t.Fatalf("NFS proc %d: denied=%v stat=%d", proc, rep.denied, rep.stat)
	}
	st := rep.body.uint32()
	return st, &rep.body
}

// mount asks MOUNT for path and returns the mountstat3 and handle.
func (c *rawClient) mount(path string) (uint32, []byte) {
	c.t.Helper()
	rep := c.call(progMount, 3, 1, func(w *xdrWriter) { w.string(path) })
	if rep.denied || rep.stat != acceptSuccess {
		c.t.Fatalf("MNT: denied=%v stat=%d", rep.denied, rep.stat)
	}
	st := rep.body.uint32()
	if st != 0 {
		return st, nil
	}
	return st, rep.body.opaque(maxFH)
}

// getattr returns the status of GETATTR and, if OK, the size and mode.
func (c *rawClient) getattr(fh []byte) (st uint32, size uint64, mode uint32) {
	c.t.Helper()
	st, r := c.nfs(1, func(w *xdrWriter) { w.opaque(fh) })
	if st != 0 {
		return st, 0, 0
	}
	a := readFattr(r)
	return st, a.size, a.mode
}

// lookup returns the status and handle of LOOKUP dir/name.
func (c *rawClient) lookup(dir []byte, name string) (uint32, []byte) {
	c.t.Helper()
	st, r := c.nfs(3, func(w *xdrWriter) { w.opaque(dir); w.string(name) })
	if st != 0 {
		return st, nil
	}
	return st, r.opaque(maxFH)
}

// fattr is the part of a fattr3 tests look at.
type fattr struct {
	typ, mode, nlink, uid, gid uint32
	size, used, fsid, fileid   uint64
	atime, mtime, ctime        [2]uint32
}

func readFattr(r *xdrReader) fattr {
	var a fattr
	a.typ, a.mode, a.nlink, a.uid, a.gid = r.uint32(), r.uint32(), r.uint32(), r.uint32(), r.uint32()
	a.size, a.used = r.uint64(), r.uint64()
	r.uint64() // rdev
	a.fsid, a.fileid = r.uint64(), r.uint64()
	for _, t := range []*[2]uint32{&a.atime, &a.mtime, &a.ctime} {
		*t = [2]uint32{r.uint32(), r.uint32()}
	}
	return a
}

// postOp reads a post_op_attr.
func readPostOp(r *xdrReader) *fattr {
	if !r.bool() {
		return nil
	}
	a := readFattr(r)
	return &a
}

// readWcc reads wcc_data and returns the post-operation attributes.
func readWcc(r *xdrReader) *fattr {
	if r.bool() {
		r.uint64()
		r.uint64()
		r.uint64()
	}
	return readPostOp(r)
}
