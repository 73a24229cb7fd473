package nfsgw

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"syscall"
	"testing"

	"github.com/cairn-storage/cairn/fs"
	nfsc "github.com/willscott/go-nfs-client/nfs"
	nfsrpc "github.com/willscott/go-nfs-client/nfs/rpc"
)

// client is a go-nfs-client mount of testVolume, plus raw calls for the
// procedures the library has no method for.
type client struct {
	t    *testing.T
	tgt  *nfsc.Target
	auth nfsrpc.Auth
	root []byte
}

// mountClient mounts testVolume through MOUNT as uid/gid.
func mountClient(t *testing.T, e *env, uid, gid uint32) *client {
	t.Helper()
	// go-nfs-client binds a random local port itself; when another test's
	// socket holds it, try another.
	var rc *nfsrpc.Client
	var err error
	for range 5 {
		if rc, err = nfsrpc.DialTCP("tcp", e.addr, false); !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	auth := nfsrpc.NewAuthUnix("test", uid, gid).Auth()
	m := &nfsc.Mount{Client: rc}
	tgt, err := m.Mount("/"+testVolume, auth)
	if err != nil {
		t.Fatal(err)
	}
	_, root, err := tgt.Lookup("/")
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, tgt: tgt, auth: auth, root: root}
}

func (c *client) header(proc uint32) nfsrpc.Header {
	return nfsrpc.Header{Rpcvers: 2, Prog: nfsc.Nfs3Prog, Vers: nfsc.Nfs3Vers, Proc: proc,
		Cred: c.auth, Verf: nfsrpc.AuthNull}
}

// call sends args (a struct starting with the Header of proc) and returns
// the status and the rest of the results.
func (c *client) call(args any) (uint32, *xdrReader) {
	c.t.Helper()
	res, err := c.tgt.Call(args)
	if err != nil {
		c.t.Fatal(err)
	}
	b, err := io.ReadAll(res)
	if err != nil {
		c.t.Fatal(err)
	}
	r := &xdrReader{b: b}
	return r.uint32(), r
}

// fh returns the handle of path.
func (c *client) fh(path string) []byte {
	c.t.Helper()
	_, fh, err := c.tgt.Lookup(path)
	if err != nil {
		c.t.Fatalf("lookup %s: %v", path, err)
	}
	return fh
}

// writeFile creates path with data through WRITE and COMMIT.
func (c *client) writeFile(path string, data []byte) {
	c.t.Helper()
	f, err := c.tgt.OpenFile(path, 0o644)
	if err != nil {
		c.t.Fatalf("create %s: %v", path, err)
	}
	if _, err := f.Write(data); err != nil {
		c.t.Fatalf("write %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		c.t.Fatalf("commit %s: %v", path, err)
	}
}

// readFile reads path through READ.
func (c *client) readFile(path string) []byte {
	c.t.Helper()
	f, err := c.tgt.Open(path)
	if err != nil {
		c.t.Fatalf("open %s: %v", path, err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		c.t.Fatalf("read %s: %v", path, err)
	}
	return b
}

func nfsErrno(err error) uint32 {
	var e *nfsc.Error
	switch {
	case err == nil:
		return 0
	case errors.Is(err, os.ErrNotExist):
		return 2
	case errors.Is(err, os.ErrExist):
		return 17
	case errors.Is(err, os.ErrPermission):
		return 1
	case errors.As(err, &e):
		return e.ErrorNum
	}
	return 99999
}

// TestClientFiles drives MKDIR, CREATE, WRITE, COMMIT, READ, LOOKUP,
// GETATTR, ACCESS, READDIRPLUS, RENAME over an existing file, REMOVE,
// RMDIR and FSINFO through go-nfs-client.
func TestClientFiles(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	c := mountClient(t, e, 0, 0)
	if _, err := c.tgt.Mkdir("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("cairn nfs "), 300_000) // 3 MB: several WRITEs
	c.writeFile("/d/f", data)
	if got := c.readFile("/d/f"); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, want %d equal ones", len(got), len(data))
	}
	fa, err := c.tgt.Getattr("/d/f")
	if err != nil || fa.Size() != int64(len(data)) || fa.Mode().Perm() != 0o644 {
		t.Fatalf("getattr: %+v, %v", fa, err)
	}
	got, err := c.tgt.Access("/d/f", nfsc.ACCESS3_READ|nfsc.ACCESS3_MODIFY|nfsc.ACCESS3_EXECUTE)
	if err != nil || got != nfsc.ACCESS3_READ|nfsc.ACCESS3_MODIFY {
		t.Errorf("access: %#x, %v", got, err)
	}

	c.writeFile("/d/g", []byte("old"))
	entries, err := c.tgt.ReadDirPlus("/d")
	if err != nil || len(entries) != 2 || !entries[0].Attr.IsSet || !entries[0].Handle.IsSet {
		t.Fatalf("readdirplus: %d entries, %v", len(entries), err)
	}
	if err := c.tgt.Rename("/d/f", "/d/g"); err != nil {
		t.Fatalf("rename over an existing file: %v", err)
	}
	if got := c.readFile("/d/g"); !bytes.Equal(got, data) {
		t.Errorf("renamed-over file has %d bytes", len(got))
	}
	if _, _, err := c.tgt.Lookup("/d/f"); nfsErrno(err) != 2 {
		t.Errorf("old name after rename: %v", err)
	}
	if err := c.tgt.RmDir("/d"); nfsErrno(err) != nfsc.NFS3ErrNotEmpty {
		t.Errorf("rmdir of a non-empty directory: %v", err)
	}
	if err := c.tgt.Remove("/d/g"); err != nil {
		t.Fatal(err)
	}
	if err := c.tgt.RmDir("/d"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.tgt.Lookup("/d"); nfsErrno(err) != 2 {
		t.Errorf("removed directory: %v", err)
	}
	info, err := c.tgt.FSInfo()
	if err != nil || info.WTMax != 1<<20 || info.Size != 1<<60 {
		t.Errorf("fsinfo: %+v, %v", info, err)
	}
}

// TestClientLinks drives SYMLINK, READLINK and LINK.
func TestClientLinks(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	c := mountClient(t, e, 0, 0)
	if err := c.tgt.Symlink("some/where", "/ln"); err != nil {
		t.Fatal(err)
	}
	f, err := c.tgt.Open("/ln")
	if err != nil {
		t.Fatal(err)
	}
	if target, err := f.Readlink(); err != nil || target != "some/where" {
		t.Errorf("readlink: %q, %v", target, err)
	}

	c.writeFile("/a", []byte("shared"))
	type linkArgs struct {
		nfsrpc.Header
		FH   []byte
		Link nfsc.Diropargs3
	}
	st, r := c.call(&linkArgs{c.header(15), c.fh("/a"), nfsc.Diropargs3{FH: c.root, Filename: "b"}})
	if st != 0 {
		t.Fatalf("link: status %d", st)
	}
	if a := readPostOp(r); a == nil || a.nlink != 2 {
		t.Errorf("link count after LINK: %+v", a)
	}
	st, _ = c.call(&linkArgs{c.header(15), c.fh("/a"), nfsc.Diropargs3{FH: c.root, Filename: "b"}})
	if st != nfsc.NFS3ErrExist {
		t.Errorf("link over an existing name: %d", st)
	}
	if err := c.tgt.Remove("/a"); err != nil {
		t.Fatal(err)
	}
	if got := c.readFile("/b"); string(got) != "shared" {
		t.Errorf("data through the remaining link: %q", got)
	}
}

// TestClientSetattr drives SETATTR: truncate, chmod and times.
func TestClientSetattr(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	c := mountClient(t, e, 0, 0)
	c.writeFile("/f", []byte("0123456789"))
	fh := c.fh("/f")
	a, err := c.tgt.SetAttr(fh, nfsc.Sattr3{
		Size:  nfsc.SetSize{SetIt: true, Size: 4},
		Mode:  nfsc.SetMode{SetIt: true, Mode: 0o600},
		Mtime: nfsc.SetTime{SetIt: nfsc.SetToClientTime, Time: nfsc.NFS3Time{Seconds: 1_000_000_000, Nseconds: 5}},
		Atime: nfsc.SetTime{SetIt: nfsc.SetToServerTime},
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.Filesize != 4 || a.FileMode&0o7777 != 0o600 || a.Mtime.Seconds != 1_000_000_000 || a.Mtime.Nseconds != 5 {
		t.Errorf("after setattr: %+v", a)
	}
	if a.Atime.Seconds < 1_700_000_000 {
		t.Errorf("atime not set to server time: %+v", a.Atime)
	}
	if got := c.readFile("/f"); string(got) != "0123" {
		t.Errorf("truncated file reads %q", got)
	}
	// Extending with SETATTR leaves a hole that reads as zeros.
	if _, err := c.tgt.SetAttr(fh, nfsc.Sattr3{Size: nfsc.SetSize{SetIt: true, Size: 8}}); err != nil {
		t.Fatal(err)
	}
	if got := c.readFile("/f"); string(got) != "0123\x00\x00\x00\x00" {
		t.Errorf("extended file reads %q", got)
	}
	// A guard with the wrong ctime is refused with NOT_SYNC.
	type setattrArgs struct {
		nfsrpc.Header
		FH    []byte
		Attr  nfsc.Sattr3
		Check bool
		Ctime nfsc.NFS3Time
	}
	st, _ := c.call(&setattrArgs{Header: c.header(2), FH: fh, Attr: nfsc.Sattr3{Mode: nfsc.SetMode{SetIt: true, Mode: 0o644}},
		Check: true, Ctime: nfsc.NFS3Time{Seconds: 1}})
	if st != nfsc.NFS3ErrNotSync {
		t.Errorf("guarded setattr with a wrong ctime: %d", st)
	}
}

// TestClientWriteClearsSetuid checks that a WRITE by a user other than
// root clears set-user-ID, as a local write would, although the gateway
// shares one open handle among clients.
func TestClientWriteClearsSetuid(t *testing.T) {
	e := newEnv(t, Export{NoRootSquash: true})
	ctx := context.Background()
	v := e.volume()
	a, err := v.Mknod(ctx, nil, fs.RootIno, "prog", syscall.S_IFREG|0o755, 0)
	if err != nil {
		t.Fatal(err)
	}
	owner, mode := uint32(1000), uint32(0o4755)
	if _, err := v.SetAttr(ctx, nil, a.Ino, fs.SetAttrIn{Uid: &owner, Gid: &owner}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.SetAttr(ctx, nil, a.Ino, fs.SetAttrIn{Mode: &mode}); err != nil {
		t.Fatal(err)
	}
	user := mountClient(t, e, 1000, 1000)
	user.writeFile("/prog", []byte("by the owner"))
	if got, _ := v.GetAttr(ctx, a.Ino); got.Mode&syscall.S_ISUID != 0 {
		t.Fatalf("a write by uid 1000 kept set-user-ID (mode %#o)", got.Mode)
	}
}
