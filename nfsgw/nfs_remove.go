package nfsgw

import (
	"context"
	"syscall"

	nfs "github.com/willscott/go-nfs"

	"github.com/cairn-storage/cairn/fs"
)

func nfsRemove(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	return removeEntry(ctx, s, rq, w, (*fs.Volume).Unlink)
}

func nfsRmdir(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	return removeEntry(ctx, s, rq, w, (*fs.Volume).Rmdir)
}

type removeFunc func(v *fs.Volume, ctx context.Context, c *fs.Caller, dir fs.Ino, name string) error

func removeEntry(ctx context.Context, s *Server, rq *request, w *xdrWriter, remove removeFunc) (nfs.NFSStatus, error) {
	fh, name := diropArgs(&rq.args)
	if rq.args.err != nil {
		return 0, errGarbage
	}
	t, err := s.resolveDir(ctx, rq, fh)
	if err == nil && s.shadowed(t, name) {
		err = syscall.EROFS
	}
	if err == nil {
		err = remove(t.vol(), ctx, t.caller, t.ino, name)
	}
	st := s.status(w, err)
	w.targetWcc(ctx, t)
	return st, nil
}

func nfsRename(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	ofh, oname := diropArgs(&rq.args)
	nfh, nname := diropArgs(&rq.args)
	if rq.args.err != nil {
		return 0, errGarbage
	}
	from, err := s.resolveDir(ctx, rq, ofh)
	var to *target
	if err == nil {
		to, err = s.resolveDir(ctx, rq, nfh)
	}
	if err == nil && to.exp != from.exp {
		err = syscall.EXDEV
	}
	if err == nil && (s.shadowed(from, oname) || s.shadowed(to, nname)) {
		err = syscall.EROFS
	}
	if err == nil {
		err = from.vol().Rename(ctx, from.caller, from.ino, oname, to.ino, nname, 0)
	}
	st := s.status(w, err)
	w.targetWcc(ctx, from)
	w.targetWcc(ctx, to)
	return st, nil
}

func nfsLink(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	fh := rq.args.opaque(maxFH)
	dfh, name := diropArgs(&rq.args)
	if rq.args.err != nil {
		return 0, errGarbage
	}
	t, err := s.resolve(ctx, rq, fh)
	var dir *target
	if err == nil {
		dir, err = s.resolveDir(ctx, rq, dfh)
	}
	if err == nil && dir.exp != t.exp {
		err = syscall.EXDEV
	}
	var a fs.Attr
	if err == nil {
		a, err = t.vol().Link(ctx, dir.caller, t.ino, dir.ino, name)
	}
	st := s.status(w, err)
	if st == nfs.NFSStatusOk {
		w.postOpAttr(t.exp.id, &a)
	} else {
		w.targetAttr(t)
	}
	w.targetWcc(ctx, dir)
	return st, nil
}
