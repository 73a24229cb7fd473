package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	nfsc "github.com/willscott/go-nfs-client/nfs"
	nfsrpc "github.com/willscott/go-nfs-client/nfs/rpc"
	"github.com/willscott/go-nfs-client/nfs/xdr"
)

// client is one MOUNT of a volume through go-nfs-client, with a deadline
// on every call: go-nfs-client itself retransmits for minutes, while the
// probe must report a call that gets no answer and go on.
type client struct {
	rc      *nfsrpc.Client
	tgt     *nfsc.Target
	auth    nfsrpc.Auth
	timeout time.Duration
	dead    bool // a call timed out: the connection is closed
}

// errTimeout reports a call with no reply within the deadline.
var errTimeout = errors.New("no reply")

// statusError is an NFS3ERR_* status of a reply.
type statusError uint32

func (e statusError) Error() string {
	if name, ok := statusNames[uint32(e)]; ok {
		return name
	}
	return fmt.Sprintf("NFS3ERR_%d", uint32(e))
}

var statusNames = map[uint32]string{
	nfsc.NFS3ErrPerm: "NFS3ERR_PERM", nfsc.NFS3ErrNoEnt: "NFS3ERR_NOENT", nfsc.NFS3ErrIO: "NFS3ERR_IO",
	nfsc.NFS3ErrNXIO: "NFS3ERR_NXIO", nfsc.NFS3ErrAcces: "NFS3ERR_ACCES", nfsc.NFS3ErrExist: "NFS3ERR_EXIST",
	nfsc.NFS3ErrInval: "NFS3ERR_INVAL", nfsc.NFS3ErrFBig: "NFS3ERR_FBIG", nfsc.NFS3ErrNoSpc: "NFS3ERR_NOSPC",
	nfsc.NFS3ErrROFS: "NFS3ERR_ROFS", nfsc.NFS3ErrStale: "NFS3ERR_STALE", nfsc.NFS3ErrBadHandle: "NFS3ERR_BADHANDLE",
	nfsc.NFS3ErrNotSupp: "NFS3ERR_NOTSUPP", nfsc.NFS3ErrServerFault: "NFS3ERR_SERVERFAULT",
	10008: "NFS3ERR_JUKEBOX",
}

// errorKind is a short label of err for the probe's counters.
func errorKind(err error) string {
	var st statusError
	var nerr *nfsc.Error
	switch {
	case errors.As(err, &st):
		return st.Error()
	case errors.As(err, &nerr):
		return statusError(nerr.ErrorNum).Error()
	case errors.Is(err, os.ErrNotExist):
		return "NFS3ERR_NOENT"
	case errors.Is(err, os.ErrPermission):
		return "NFS3ERR_PERM"
	case errors.Is(err, errTimeout):
		return "timeout"
	}
	return "transport"
}

// dial mounts /volume of the server at addr.
func dial(addr, volume string, timeout time.Duration) (*client, error) {
	// Retransmit only after our own deadline has given up on the call.
	nfsrpc.DefaultReadTimeout = timeout + 10*time.Second
	c := &client{auth: nfsrpc.NewAuthUnix("probe", 0, 0).Auth(), timeout: timeout}
	err := c.do("connect", func() error {
		var err error
		for range 5 { // go-nfs-client picks its source port itself
			if c.rc, err = nfsrpc.DialTCP("tcp", addr, false); !errors.Is(err, syscall.EADDRINUSE) {
				break
			}
		}
		if err != nil {
			return err
		}
		m := &nfsc.Mount{Client: c.rc}
		c.tgt, err = m.Mount("/"+volume, c.auth)
		return err
	})
	if err != nil {
		c.close()
		return nil, fmt.Errorf("mount %s:/%s: %w", addr, volume, err)
	}
	return c, nil
}

// do runs fn, a call on the connection, within the deadline. When it
// times out the connection is closed (fn then fails on its own) and
// the client is dead.
func (c *client) do(what string, fn func() error) error {
	if c.dead {
		return fmt.Errorf("%s: %w (connection closed)", what, errTimeout)
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	t := time.NewTimer(c.timeout)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	case <-t.C:
		c.close()
		return fmt.Errorf("%s: %w in %v", what, errTimeout, c.timeout)
	}
}

func (c *client) close() {
	c.dead = true
	if c.rc != nil {
		c.rc.Close()
	}
}

func (c *client) header(proc uint32) nfsrpc.Header {
	return nfsrpc.Header{Rpcvers: 2, Prog: nfsc.Nfs3Prog, Vers: nfsc.Nfs3Vers, Proc: proc, Cred: c.auth, Verf: nfsrpc.AuthNull}
}

// call sends args and decodes the results after an NFS3_OK status into
// res; another status is a statusError.
func (c *client) call(args, res any) error {
	r, err := c.tgt.Call(args)
	if err != nil {
		return err
	}
	st, err := xdr.ReadUint32(r)
	if err != nil {
		return err
	}
	if st != nfsc.NFS3Ok {
		return statusError(st)
	}
	return xdr.Read(r, res)
}

// open returns the handle of /name, creating the file if it is missing.
func (c *client) open(name string, create bool) (fh []byte, err error) {
	err = c.do("lookup "+name, func() error {
		_, fh, err = c.tgt.Lookup("/" + name)
		return err
	})
	if create && errors.Is(err, os.ErrNotExist) {
		err = c.do("create "+name, func() error {
			fh, err = c.tgt.Create("/"+name, 0o644)
			return err
		})
	}
	return fh, err
}

// write sends one UNSTABLE WRITE and returns the server's verifier.
func (c *client) write(fh []byte, off uint64, data []byte) (verf uint64, err error) {
	type args struct {
		nfsrpc.Header
		FH       []byte
		Offset   uint64
		Count    uint32
		How      uint32 // 0: UNSTABLE
		Contents []byte
	}
	var res struct {
		Wcc   nfsc.WccData
		Count uint32
		How   uint32
		Verf  uint64
	}
	err = c.do("write", func() error {
		return c.call(&args{Header: c.header(nfsc.NFSProc3Write), FH: fh, Offset: off, Count: uint32(len(data)), Contents: data}, &res)
	})
	if err == nil && res.Count != uint32(len(data)) {
		err = fmt.Errorf("write at %d: short write of %d of %d bytes", off, res.Count, len(data))
	}
	return res.Verf, err
}

// rangeArgs are the arguments of COMMIT and READ: a file and a range.
type rangeArgs struct {
	nfsrpc.Header
	FH     []byte
	Offset uint64
	Count  uint32
}

// commit sends a COMMIT of the whole file and returns the verifier.
func (c *client) commit(fh []byte) (verf uint64, err error) {
	var res struct {
		Wcc  nfsc.WccData
		Verf uint64
	}
	err = c.do("commit", func() error {
		return c.call(&rangeArgs{Header: c.header(nfsc.NFSProc3Commit), FH: fh}, &res)
	})
	return res.Verf, err
}

// size returns the file's size from GETATTR.
func (c *client) size(name string) (n uint64, err error) {
	err = c.do("getattr "+name, func() error {
		fa, err := c.tgt.Getattr("/" + name)
		if err == nil {
			n = fa.Filesize
		}
		return err
	})
	return n, err
}

// read fills p from offset off with READ calls; it returns fewer bytes
// only at the end of the file.
func (c *client) read(fh []byte, p []byte, off uint64) (int, error) {
	var res struct {
		Attr  nfsc.PostOpAttr
		Count uint32
		EOF   bool
		Data  []byte
	}
	n := 0
	for n < len(p) {
		count := min(len(p)-n, 1<<20)
		err := c.do("read", func() error {
			return c.call(&rangeArgs{Header: c.header(nfsc.NFSProc3Read), FH: fh, Offset: off + uint64(n), Count: uint32(count)}, &res)
		})
		if err != nil {
			return n, err
		}
		n += copy(p[n:], res.Data)
		if res.EOF || len(res.Data) == 0 {
			return n, io.EOF
		}
	}
	return n, nil
}
