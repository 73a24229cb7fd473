package nfsgw

import (
	"context"
	"errors"
	"syscall"
	"time"

	nfs "github.com/willscott/go-nfs"
	"golang.org/x/sys/unix"

	"github.com/cairn-storage/cairn/fs"
)

// createhow3 values.
const (
	createUnchecked = 0
	createGuarded   = 1
	createExclusive = 2
)

// created writes the result of CREATE, MKDIR, SYMLINK and MKNOD: the new
// object's handle and attributes, and the directory's wcc_data.
func (s *Server) created(ctx context.Context, w *xdrWriter, t *target, a *fs.Attr, err error) nfs.NFSStatus {
	st := s.status(w, err)
	if st == nfs.NFSStatusOk {
		w.postOpFH(s.handle(t, a))
		w.postOpAttr(t.exp.id, a)
	}
	w.targetWcc(ctx, t)
	return st
}

// resolveDir resolves the directory of a creating call, on a writable export.
func (s *Server) resolveDir(ctx context.Context, rq *request, fh []byte) (*target, error) {
	t, err := s.resolve(ctx, rq, fh)
	if err != nil {
		return nil, err
	}
	return t, t.writable()
}

func nfsCreate(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	fh, name := diropArgs(&rq.args)
	how := rq.args.uint32()
	var in fs.SetAttrIn
	var verf uint64
	switch how {
	case createUnchecked, createGuarded:
		in = rq.args.sattr3()
	case createExclusive:
		verf = rq.args.uint64()
	default:
		return 0, errGarbage
	}
	if rq.args.err != nil {
		return 0, errGarbage
	}
	t, err := s.resolveDir(ctx, rq, fh)
	var a fs.Attr
	if err == nil {
		if how == createExclusive {
			a, err = s.createExclusive(ctx, t, name, verf)
		} else {
			a, err = s.create(ctx, t, name, in, how == createGuarded)
		}
	}
	return s.created(ctx, w, t, &a, err), nil
}

// create makes a regular file; without guard an existing file is reused
// (and truncated if the attributes say so), as open(O_CREAT) would.
func (s *Server) create(ctx context.Context, t *target, name string, in fs.SetAttrIn, guard bool) (fs.Attr, error) {
	perm := uint32(0o644)
	if in.Mode != nil {
		perm = *in.Mode
	}
	a, err := t.vol().Mknod(ctx, t.caller, t.ino, name, syscall.S_IFREG|perm, 0)
	if err == nil {
		in.Mode = nil
		return s.applyNew(ctx, t, a, in)
	}
	if guard || !errors.Is(err, syscall.EEXIST) {
		return fs.Attr{}, err
	}
	if a, err = t.vol().Lookup(ctx, t.caller, t.ino, name); err != nil {
		return fs.Attr{}, err
	}
	if !a.IsRegular() {
		return fs.Attr{}, syscall.EEXIST
	}
	if in.Size == nil {
		return a, nil
	}
	ft := &target{exp: t.exp, ino: a.Ino, attr: a, caller: t.caller}
	return s.setattr(ctx, ft, fs.SetAttrIn{Size: in.Size})
}

// createExclusive makes a file whose creation a retransmitted call can
// recognize: the client's verifier is kept in its access and modify
// times (as knfsd does) until the client sets real ones.
func (s *Server) createExclusive(ctx context.Context, t *target, name string, verf uint64) (fs.Attr, error) {
	atime, mtime := time.Unix(int64(verf>>32), 0), time.Unix(int64(verf&0xffffffff), 0)
	a, err := t.vol().Mknod(ctx, t.caller, t.ino, name, syscall.S_IFREG, 0)
	if errors.Is(err, syscall.EEXIST) {
		if a, err = t.vol().Lookup(ctx, t.caller, t.ino, name); err != nil {
			return fs.Attr{}, err
		}
		if a.IsRegular() && a.Atime.Equal(atime) && a.Mtime.Equal(mtime) {
			return a, nil // our own earlier reply was lost
		}
		return fs.Attr{}, syscall.EEXIST
	} else if err != nil {
		return fs.Attr{}, err
	}
	return t.vol().SetAttr(ctx, nil, a.Ino, fs.SetAttrIn{Atime: &atime, Mtime: &mtime})
}

// applyNew sets the attributes a creating call gave, other than the mode
// it was created with. Owner and group equal to what the new object got
// are dropped, so an ordinary user's create never fails a needless chown.
func (s *Server) applyNew(ctx context.Context, t *target, a fs.Attr, in fs.SetAttrIn) (fs.Attr, error) {
	if in.Uid != nil && *in.Uid == a.Uid {
		in.Uid = nil
	}
	if in.Gid != nil && *in.Gid == a.Gid {
		in.Gid = nil
	}
	if in.Size != nil && *in.Size == 0 {
		in.Size = nil
	}
	if emptySetAttr(in) {
		return a, nil
	}
	ft := &target{exp: t.exp, ino: a.Ino, attr: a, caller: t.caller}
	return s.setattr(ctx, ft, in)
}

func nfsMkdir(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	fh, name := diropArgs(&rq.args)
	in := rq.args.sattr3()
	if rq.args.err != nil {
		return 0, errGarbage
	}
	t, err := s.resolveDir(ctx, rq, fh)
	var a fs.Attr
	if err == nil {
		perm := uint32(0o755)
		if in.Mode != nil {
			perm, in.Mode = *in.Mode, nil
		}
		if a, err = t.vol().Mkdir(ctx, t.caller, t.ino, name, perm); err == nil {
			a, err = s.applyNew(ctx, t, a, in)
		}
	}
	return s.created(ctx, w, t, &a, err), nil
}

func nfsSymlink(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	fh, name := diropArgs(&rq.args)
	in := rq.args.sattr3()
	path := rq.args.string(maxPath)
	if rq.args.err != nil {
		return 0, errGarbage
	}
	t, err := s.resolveDir(ctx, rq, fh)
	var a fs.Attr
	if err == nil {
		if a, err = t.vol().Symlink(ctx, t.caller, t.ino, name, path); err == nil {
			in.Mode, in.Size = nil, nil // a symlink's mode and size are fixed
			a, err = s.applyNew(ctx, t, a, in)
		}
	}
	return s.created(ctx, w, t, &a, err), nil
}

func nfsMknod(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	fh, name := diropArgs(&rq.args)
	typ := rq.args.uint32()
	var in fs.SetAttrIn
	var mode, rdev uint32
	switch typ {
	case nf3Chr, nf3Blk:
		in = rq.args.sattr3()
		major, minor := rq.args.uint32(), rq.args.uint32()
		rdev = uint32(unix.Mkdev(major, minor))
		mode = syscall.S_IFCHR
		if typ == nf3Blk {
			mode = syscall.S_IFBLK
		}
	case nf3Sock:
		in, mode = rq.args.sattr3(), syscall.S_IFSOCK
	case nf3Fifo:
		in, mode = rq.args.sattr3(), syscall.S_IFIFO
	}
	if rq.args.err != nil {
		return 0, errGarbage
	}
	t, err := s.resolveDir(ctx, rq, fh)
	var a fs.Attr
	if err == nil && mode == 0 {
		err = errBadType
	}
	if err == nil {
		perm := uint32(0o644)
		if in.Mode != nil {
			perm, in.Mode = *in.Mode, nil
		}
		if a, err = t.vol().Mknod(ctx, t.caller, t.ino, name, mode|perm, rdev); err == nil {
			in.Size = nil
			a, err = s.applyNew(ctx, t, a, in)
		}
	}
	return s.created(ctx, w, t, &a, err), nil
}

// errBadType answers MKNOD of a regular file or directory (NFS3ERR_BADTYPE).
var errBadType = errors.New("mknod of a regular file or directory")
