package nfsgw

import (
	"math"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cairn-storage/cairn/fs"
)

// ftype3 values.
const (
	nf3Reg  = 1
	nf3Dir  = 2
	nf3Blk  = 3
	nf3Chr  = 4
	nf3Lnk  = 5
	nf3Sock = 6
	nf3Fifo = 7
)

// fattr3Size is the encoded size of a fattr3.
const fattr3Size = 84

func fileType(mode uint32) uint32 {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return nf3Dir
	case syscall.S_IFBLK:
		return nf3Blk
	case syscall.S_IFCHR:
		return nf3Chr
	case syscall.S_IFLNK:
		return nf3Lnk
	case syscall.S_IFSOCK:
		return nf3Sock
	case syscall.S_IFIFO:
		return nf3Fifo
	}
	return nf3Reg
}

// time3 writes an nfstime3, clamping times outside its unsigned 32-bit
// seconds to the nearest representable one.
func (w *xdrWriter) time3(t time.Time) {
	sec := t.Unix()
	switch {
	case sec < 0:
		w.uint32(0)
		w.uint32(0)
	case sec > math.MaxUint32:
		w.uint32(math.MaxUint32)
		w.uint32(999999999)
	default:
		w.uint32(uint32(sec))
		w.uint32(uint32(t.Nanosecond()))
	}
}

func (r *xdrReader) time3() time.Time {
	sec, nsec := r.uint32(), r.uint32()
	if nsec >= 1e9 {
		r.fail()
	}
	return time.Unix(int64(sec), int64(nsec))
}

// fattr3 writes the attributes of an inode of volume vol.
func (w *xdrWriter) fattr3(vol uint64, a *fs.Attr) {
	w.uint32(fileType(a.Mode))
	w.uint32(a.Mode & 0o7777)
	w.uint32(a.Nlink)
	w.uint32(a.Uid)
	w.uint32(a.Gid)
	w.uint64(a.Size)
	w.uint64(a.Blocks * 512)
	w.uint32(unix.Major(uint64(a.Rdev)))
	w.uint32(unix.Minor(uint64(a.Rdev)))
	w.uint64(vol)
	w.uint64(uint64(a.Ino))
	w.time3(a.Atime)
	w.time3(a.Mtime)
	w.time3(a.Ctime)
}

// postOpAttr writes a post_op_attr: a's attributes, or none if a is nil.
func (w *xdrWriter) postOpAttr(vol uint64, a *fs.Attr) {
	w.bool(a != nil)
	if a != nil {
		w.fattr3(vol, a)
	}
}

// wcc writes wcc_data: the attributes before (size and times) and after
// a change, either of which may be unknown. Clients use them to tell
// whether their cache saw every change.
func (w *xdrWriter) wcc(vol uint64, before, after *fs.Attr) {
	w.bool(before != nil)
	if before != nil {
		w.uint64(before.Size)
		w.time3(before.Mtime)
		w.time3(before.Ctime)
	}
	w.postOpAttr(vol, after)
}

// postOpFH writes a post_op_fh3.
func (w *xdrWriter) postOpFH(fh []byte) {
	w.bool(fh != nil)
	if fh != nil {
		w.opaque(fh)
	}
}

// time_how values of sattr3.
const (
	dontChange      = 0
	setToServerTime = 1
	setToClientTime = 2
)

// sattr3 decodes settable attributes into the filesystem's form.
func (r *xdrReader) sattr3() fs.SetAttrIn {
	var in fs.SetAttrIn
	if r.bool() {
		m := r.uint32() & 0o7777
		in.Mode = &m
	}
	if r.bool() {
		u := r.uint32()
		in.Uid = &u
	}
	if r.bool() {
		g := r.uint32()
		in.Gid = &g
	}
	if r.bool() {
		s := r.uint64()
		in.Size = &s
	}
	for _, tm := range []struct {
		now *bool
		set **time.Time
	}{{&in.AtimeNow, &in.Atime}, {&in.MtimeNow, &in.Mtime}} {
		switch r.uint32() {
		case dontChange:
		case setToServerTime:
			*tm.now = true
		case setToClientTime:
			t := r.time3()
			*tm.set = &t
		default:
			r.fail()
		}
	}
	return in
}

// empty reports whether in changes nothing.
func emptySetAttr(in fs.SetAttrIn) bool {
	return in.Mode == nil && in.Uid == nil && in.Gid == nil && in.Size == nil &&
		in.Atime == nil && in.Mtime == nil && !in.AtimeNow && !in.MtimeNow
}
