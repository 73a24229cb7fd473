package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	nfsc "github.com/willscott/go-nfs-client/nfs"
	nfsrpc "github.com/willscott/go-nfs-client/nfs/rpc"

	"github.com/cairn-storage/cairn/bench/runenv"
)

// The NFS targets reach the cairn volume through the gateway of the cairn
// server process, which also serves the FUSE mount: "nfs" with the
// userspace client github.com/willscott/go-nfs-client, "nfs-cp" with
// libnfs's nfs-cp. Each works in a directory of its own in the volume
// (nfsSubdir(name)), which the bench also reaches through the FUSE mount
// to prepare inputs outside the clock.

// nfsTargets are the targets served by the NFS gateway.
var nfsTargets = []string{"nfs", "nfs-cp"}

// nfsSubdir is the directory of NFS target name in the volume.
func nfsSubdir(name string) string { return name }

// newNFS returns NFS target name, served by the (started) cairn target c.
func newNFS(c *target, name string) (*target, error) {
	dir := filepath.Join(c.dir, nfsSubdir(name))
	return &target{name: name, dir: dir, srv: c.srv}, mkdirs(dir)
}

// waitListening waits until addr accepts TCP connections.
func waitListening(ctx context.Context, addr string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before listening on %s", addr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %s after %v: %w", addr, timeout, err)
		}
	}
}

// nfsConn is a go-nfs-client mount of a target's directory.
type nfsConn struct {
	rc   *nfsrpc.Client
	tgt  *nfsc.Target
	auth nfsrpc.Auth
	wmax uint32 // the gateway's FSINFO wtpref
}

// dialNFS mounts /VOLUME/SUBDIR of t through MOUNT, as root.
func dialNFS(t *target) (*nfsConn, error) {
	// go-nfs-client binds a random local port itself; retry on a clash.
	var rc *nfsrpc.Client
	var err error
	for range 5 {
		if rc, err = nfsrpc.DialTCP("tcp", t.srv.nfsAddr, false); !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	auth := nfsrpc.NewAuthUnix("bench", 0, 0).Auth()
	tgt, err := (&nfsc.Mount{Client: rc}).Mount("/"+cairnVolume+"/"+nfsSubdir(t.name), auth)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("mount: %w", err)
	}
	fi, err := tgt.FSInfo()
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("fsinfo: %w", err)
	}
	return &nfsConn{rc: rc, tgt: tgt, auth: auth, wmax: fi.WTPref}, nil
}

// Close drops the connection (the gateway keeps no per-client state
// that matters here).
func (c *nfsConn) Close() { c.rc.Close() }

// header is the RPC header of NFSv3 procedure proc.
func (c *nfsConn) header(proc uint32) nfsrpc.Header {
	return nfsrpc.Header{Rpcvers: 2, Prog: nfsc.Nfs3Prog, Vers: nfsc.Nfs3Vers, Proc: proc, Cred: c.auth, Verf: nfsrpc.AuthNull}
}

// nfsStatus reads the status word of a result and turns it into an error.
func nfsStatus(res io.Reader, what string) error {
	var b [4]byte
	if _, err := io.ReadFull(res, b[:]); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if st := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]); st != 0 {
		return fmt.Errorf("%s: NFS status %d", what, st)
	}
	return nil
}

// write sends data at off as UNSTABLE WRITEs of at most wtpref bytes,
// one at a time, as go-nfs-client's File.Write does but UNSTABLE (the
// library's writes are FILE_SYNC, which makes the gateway fsync every
// request; a kernel client writes UNSTABLE and COMMITs on close).
func (c *nfsConn) write(fh []byte, off uint64, data []byte) error {
	type writeArgs struct {
		nfsrpc.Header
		FH       []byte
		Offset   uint64
		Count    uint32
		How      uint32
		Contents []byte
	}
	for len(data) > 0 {
		n := min(len(data), int(c.wmax))
		res, err := c.tgt.Call(&writeArgs{Header: c.header(nfsc.NFSProc3Write), FH: fh, Offset: off,
			Count: uint32(n), How: 0, Contents: data[:n]})
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		if err := nfsStatus(res, "write"); err != nil {
			return err
		}
		data, off = data[n:], off+uint64(n)
	}
	return nil
}

// commit sends COMMIT of the whole file.
func (c *nfsConn) commit(fh []byte) error {
	type commitArgs struct {
		nfsrpc.Header
		FH     []byte
		Offset uint64
		Count  uint32
	}
	res, err := c.tgt.Call(&commitArgs{Header: c.header(nfsc.NFSProc3Commit), FH: fh})
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nfsStatus(res, "commit")
}

// create makes path (UNCHECKED) and returns its handle.
func (c *nfsConn) create(path string) ([]byte, error) {
	fh, err := c.tgt.Create(path, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return fh, nil
}

// nfsSeqWrite writes data to seq.dat through the gateway in UNSTABLE
// WRITEs of the gateway's wtpref, then COMMITs. The old file is removed
// through the FUSE mount first, outside the clock.
func nfsSeqWrite(ctx context.Context, t *target, data []byte, block int) (*measurement, error) {
	if err := os.Remove(filepath.Join(t.dir, seqFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	c, err := dialNFS(t)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	start := time.Now()
	fh, err := c.create(seqFile)
	if err != nil {
		return nil, err
	}
	for off := 0; off < len(data); off += block {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err := c.write(fh, uint64(off), data[off:min(off+block, len(data))]); err != nil {
			return nil, err
		}
	}
	if err := c.commit(fh); err != nil {
		return nil, err
	}
	m := throughput(int64(len(data)), time.Since(start))
	m.Note = fmt.Sprintf("go-nfs-client RPC, UNSTABLE WRITE × %s, 1 in flight, + COMMIT", runenv.ByteSize(c.wmax).String())
	return m, nil
}

// nfsSeqRead reads seq.dat whole with go-nfs-client's File.Read (READs
// of min(rtmax, block), one in flight) and checks its size.
func nfsSeqRead(ctx context.Context, t *target, want int64, block int) (*measurement, error) {
	c, err := dialNFS(t)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	start := time.Now()
	f, err := c.tgt.Open(seqFile)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	buf := make([]byte, block)
	var got int64
	for i := 0; ; i++ {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		n, err := f.Read(buf)
		got += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	d := time.Since(start)
	if got != want {
		return nil, fmt.Errorf("read %d bytes of %s, want %d", got, seqFile, want)
	}
	m := throughput(got, d)
	m.Note = fmt.Sprintf("go-nfs-client File.Read, READ × %s, 1 in flight", runenv.ByteSize(min(block, int(c.wmax))).String())
	return m, nil
}

// nfsCreateFiles does what createFiles does through the gateway: MKDIR
// the directories, then per file CREATE and one UNSTABLE WRITE (no
// COMMIT, as the FUSE figure has no fsync).
func nfsCreateFiles(ctx context.Context, t *target, s treeSpec, p *pattern) (*measurement, error) {
	c, err := dialNFS(t)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	buf := make([]byte, s.FileSize)
	start := time.Now()
	if _, err := c.tgt.Mkdir(createDir, 0o755); err != nil {
		return nil, fmt.Errorf("mkdir %s: %w", createDir, err)
	}
	for d := 0; d < s.Dirs; d++ {
		if _, err := c.tgt.Mkdir(fmt.Sprintf("%s/d%03d", createDir, d), 0o755); err != nil {
			return nil, fmt.Errorf("mkdir: %w", err)
		}
	}
	for i := 0; i < s.Files; i++ {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		p.fill(buf, uint64(2<<40)+uint64(i))
		fh, err := c.create(s.path(createDir, i))
		if err != nil {
			return nil, err
		}
		if err := c.write(fh, 0, buf); err != nil {
			return nil, err
		}
	}
	m := perSecond(int64(s.Files), time.Since(start))
	m.Note = "go-nfs-client: MKDIR, CREATE + UNSTABLE WRITE per file, 1 in flight"
	return m, nil
}

// nfsStatFiles looks up every file of the tree by path and GETATTRs it,
// checking sizes, on a fresh mount (go-nfs-client caches the handles of
// the directories it walks, as a kernel client's dentry cache would).
func nfsStatFiles(ctx context.Context, t *target, s treeSpec) (*measurement, error) {
	c, err := dialNFS(t)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	start := time.Now()
	for i := 0; i < s.Files; i++ {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		path := s.path(createDir, i)
		fa, err := c.tgt.Getattr(path)
		if err != nil {
			return nil, fmt.Errorf("getattr %s: %w", path, err)
		}
		if fa.Size() != int64(s.FileSize) {
			return nil, fmt.Errorf("%s has %d bytes, want %d", path, fa.Size(), s.FileSize)
		}
	}
	m := perSecond(int64(s.Files), time.Since(start))
	m.Note = "go-nfs-client Getattr by path: LOOKUPs + GETATTR, 1 in flight"
	return m, nil
}

// nfsURL is the nfs:// URL of file in t's directory, for libnfs.
func nfsURL(t *target, file string) string {
	_, port, _ := strings.Cut(t.srv.nfsAddr, ":")
	return fmt.Sprintf("nfs://127.0.0.1/%s/%s/%s?nfsport=%s&mountport=%s&version=3",
		cairnVolume, nfsSubdir(t.name), file, port, port)
}

// nfsCp runs nfs-cp src dst and times it.
func nfsCp(ctx context.Context, src, dst string) (*measurement, error) {
	if _, err := exec.LookPath("nfs-cp"); err != nil {
		return nil, fmt.Errorf("nfs-cp (Debian: libnfs-utils): %w", err)
	}
	return timed(ctx, "nfs-cp", src, dst)
}

// nfsCpWrite copies the local file src (size bytes, in the page cache)
// to seq.dat with nfs-cp; the old file is removed through the FUSE mount
// first, outside the clock.
func nfsCpWrite(ctx context.Context, t *target, src string, size int64) (*measurement, error) {
	if err := os.Remove(filepath.Join(t.dir, seqFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	m, err := nfsCp(ctx, src, nfsURL(t, seqFile))
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(filepath.Join(t.dir, seqFile))
	if err != nil {
		return nil, err
	}
	if fi.Size() != size {
		return nil, fmt.Errorf("nfs-cp wrote %d bytes, want %d", fi.Size(), size)
	}
	return throughput(size, time.Duration(m.Seconds*float64(time.Second))), nil
}

// nfsCpRead reads seq.dat with libnfs's nfs-cat into a pipe that the
// bench drains and counts (nfs-cp refuses /dev/null as destination).
func nfsCpRead(ctx context.Context, t *target, size int64) (*measurement, error) {
	cmd := exec.CommandContext(ctx, "nfs-cat", nfsURL(t, seqFile))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("nfs-cat (Debian: libnfs-utils): %w", err)
	}
	got, cerr := io.Copy(io.Discard, out)
	if err := errors.Join(cerr, cmd.Wait()); err != nil {
		return nil, fmt.Errorf("nfs-cat: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	d := time.Since(start)
	if got != size {
		return nil, fmt.Errorf("nfs-cat read %d bytes, want %d", got, size)
	}
	m := throughput(size, d)
	m.Note = "nfs-cat to a pipe"
	return m, nil
}
