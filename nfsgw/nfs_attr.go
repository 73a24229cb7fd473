package nfsgw

import (
	"context"
	"syscall"

	nfs "github.com/willscott/go-nfs"

	"github.com/cairn-storage/cairn/fs"
)

func init() {
	procs := make([]procedure, nfs.NFSProcedureCommit+1)
	for i, fn := range []procFunc{
		nfsNull, nfsGetattr, nfsSetattr, nfsLookup, nfsAccess, nfsReadlink,
		nfsRead, nfsWrite, nfsCreate, nfsMkdir, nfsSymlink, nfsMknod,
		nfsRemove, nfsRmdir, nfsRename, nfsLink, nfsReaddir, nfsReaddirplus,
		nfsFSStat, nfsFSInfo, nfsPathconf, nfsCommit,
	} {
		procs[i] = procedure{name: nfs.NFSProcedure(i).String(), fn: fn}
	}
	programs[progNFS] = &program{name: "nfs", low: 3, high: 3, procs: procs}
}

func nfsNull(_ context.Context, _ *Server, _ *request, _ *xdrWriter) (nfs.NFSStatus, error) {
	return nfs.NFSStatusOk, nil
}

func nfsGetattr(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	fh := rq.args.opaque(maxFH)
	if rq.args.err != nil {
		return 0, errGarbage
	}
	t, err := s.resolve(ctx, rq, fh)
	if st := s.status(w, err); st != nfs.NFSStatusOk {
		return st, nil
	}
	w.fattr3(t.exp.id, &t.attr)
	return nfs.NFSStatusOk, nil
}

func nfsSetattr(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	fh := rq.args.opaque(maxFH)
	in := rq.args.sattr3()
	var guard bool
	var ctime3 [2]uint32
	if guard = rq.args.bool(); guard {
		ctime3 = [2]uint32{rq.args.uint32(), rq.args.uint32()}
	}
	if rq.args.err != nil {
		return 0, errGarbage
	}
	t, err := s.resolve(ctx, rq, fh)
	if err == nil {
		err = t.writable()
	}
	if err == nil && guard {
		c := t.attr.Ctime
		if uint32(c.Unix()) != ctime3[0] || uint32(c.Nanosecond()) != ctime3[1] {
			st := nfs.NFSStatusNotSync
			w.uint32(uint32(st))
			w.wcc(t.exp.id, &t.attr, &t.attr)
			return st, nil
		}
	}
	var after fs.Attr
	if err == nil {
		after, err = s.setattr(ctx, t, in)
	}
	if st := s.status(w, err); st != nfs.NFSStatusOk {
		if t != nil {
			w.wcc(t.exp.id, &t.attr, attrAfter(ctx, t.vol(), t.ino))
		} else {
			w.wcc(0, nil, nil)
		}
		return st, nil
	}
	w.wcc(t.exp.id, &t.attr, &after)
	return nfs.NFSStatusOk, nil
}

// setattr applies in to t. A size change is checked here, with the owner
// override of mayIO, rather than by the filesystem, since clients
// truncate files they just created read-only (open O_CREAT|O_TRUNC).
func (s *Server) setattr(ctx context.Context, t *target, in fs.SetAttrIn) (fs.Attr, error) {
	if in.Size != nil {
		if err := t.mayIO(ctx, true); err != nil {
			return fs.Attr{}, err
		}
		in.ByHandle = true
	}
	if emptySetAttr(in) {
		return t.attr, nil
	}
	return t.vol().SetAttr(ctx, t.caller, t.ino, in)
}

func nfsLookup(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	fh, name := diropArgs(&rq.args)
	if rq.args.err != nil {
		return 0, errGarbage
	}
	t, err := s.resolve(ctx, rq, fh)
	var a fs.Attr
	var exp *export
	if err == nil {
		a, exp, err = s.lookup(ctx, t, name)
	}
	if st := s.status(w, err); st != nfs.NFSStatusOk {
		w.targetAttr(t)
		return st, nil
	}
	w.opaque(s.handleIn(exp, &a))
	w.postOpAttr(exp.id, &a)
	w.postOpAttr(t.exp.id, &t.attr)
	return nfs.NFSStatusOk, nil
}

// lookup finds name in the directory t, including "." and "..", and
// returns the export it is in (a snapshot view's, below .snapshots). At
// the root of an export, ".." is the root itself: clients cannot climb
// out.
func (s *Server) lookup(ctx context.Context, t *target, name string) (fs.Attr, *export, error) {
	if !t.attr.IsDir() {
		return fs.Attr{}, nil, syscall.ENOTDIR
	}
	if t.snapDir {
		return s.snapLookup(ctx, t, name)
	}
	if t.ino == fs.RootIno && ((name == ".." && t.exp.parent != nil) || (name == snapDirName && s.exports.hasSnapDir(t.exp))) {
		// .snapshots, from the export's root or a snapshot's.
		e := t.exp
		if e.parent != nil {
			e = e.parent
		}
		if err := t.vol().Access(ctx, t.caller, t.ino, fs.MayExec); err != nil {
			return fs.Attr{}, nil, err
		}
		a, err := snapDirAttr(ctx, e)
		return a, e, err
	}
	a, err := s.lookupIn(ctx, t, name)
	return a, t.exp, err
}

// lookupIn finds name in the directory t of a volume.
func (s *Server) lookupIn(ctx context.Context, t *target, name string) (fs.Attr, error) {
	if name == "." || (name == ".." && t.ino == fs.RootIno) {
		if err := t.vol().Access(ctx, t.caller, t.ino, fs.MayExec); err != nil {
			return fs.Attr{}, err
		}
		return t.attr, nil
	}
	if name == ".." {
		if err := t.vol().Access(ctx, t.caller, t.ino, fs.MayExec); err != nil {
			return fs.Attr{}, err
		}
		p, err := t.vol().Parent(ctx, t.ino)
		if err != nil {
			return fs.Attr{}, err
		}
		return t.vol().GetAttr(ctx, p)
	}
	return t.vol().Lookup(ctx, t.caller, t.ino, name)
}

// ACCESS3 bits.
const (
	access3Read    = 0x01
	access3Lookup  = 0x02
	access3Modify  = 0x04
	access3Extend  = 0x08
	access3Delete  = 0x10
	access3Execute = 0x20
)

func nfsAccess(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	fh := rq.args.opaque(maxFH)
	want := rq.args.uint32()
	if rq.args.err != nil {
		return 0, errGarbage
	}
	t, err := s.resolve(ctx, rq, fh)
	if st := s.status(w, err); st != nfs.NFSStatusOk {
		w.postOpAttr(0, nil)
		return st, nil
	}
	may := func(mask uint32) bool {
		if t.snapDir {
			return mask != fs.MayWrite
		}
		return t.vol().Access(ctx, t.caller, t.ino, mask) == nil
	}
	var got uint32
	if want&access3Read != 0 && may(fs.MayRead) {
		got |= access3Read
	}
	if want&(access3Lookup|access3Execute) != 0 && may(fs.MayExec) {
		if t.attr.IsDir() {
			got |= access3Lookup
		} else {
			got |= access3Execute
		}
	}
	if want&(access3Modify|access3Extend|access3Delete) != 0 && !t.exp.ReadOnly && may(fs.MayWrite) {
		got |= access3Modify | access3Extend
		if t.attr.IsDir() {
			got |= access3Delete
		}
	}
	w.postOpAttr(t.exp.id, &t.attr)
	w.uint32(got & want)
	return nfs.NFSStatusOk, nil
}

func nfsReadlink(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	fh := rq.args.opaque(maxFH)
	if rq.args.err != nil {
		return 0, errGarbage
	}
	t, err := s.resolve(ctx, rq, fh)
	var target string
	if err == nil {
		target, err = t.vol().Readlink(ctx, t.ino)
	}
	if st := s.status(w, err); st != nfs.NFSStatusOk {
		w.targetAttr(t)
		return st, nil
	}
	w.postOpAttr(t.exp.id, &t.attr)
	w.string(target)
	return nfs.NFSStatusOk, nil
}
