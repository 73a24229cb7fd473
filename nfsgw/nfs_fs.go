package nfsgw

import (
	"context"

	nfs "github.com/willscott/go-nfs"

	"github.com/cairn-storage/cairn/fs"
)

func nfsFSStat(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	fh := rq.args.opaque(maxFH)
	if rq.args.err != nil {
		return 0, errGarbage
	}
	t, err := s.resolve(ctx, rq, fh)
	var st fs.StatFS
	if err == nil {
		st, err = t.vol().StatFS(ctx)
	}
	if code := s.status(w, err); code != nfs.NFSStatusOk {
		w.targetAttr(t)
		return code, nil
	}
	w.targetAttr(t)
	bs := uint64(st.BlockSize)
	w.uint64(st.Blocks * bs)     // total bytes
	w.uint64(st.BlocksFree * bs) // free bytes
	w.uint64(st.BlocksFree * bs) // free to this user: no reserved blocks
	w.uint64(st.Files)
	w.uint64(st.FilesFree)
	w.uint64(st.FilesFree)
	w.uint32(0) // invarsec: usage changes at any time
	return nfs.NFSStatusOk, nil
}

// FSINFO properties.
const (
	fsfLink        = 0x01
	fsfSymlink     = 0x02
	fsfHomogeneous = 0x08
	fsfCanSetTime  = 0x10
)

func nfsFSInfo(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	fh := rq.args.opaque(maxFH)
	if rq.args.err != nil {
		return 0, errGarbage
	}
	t, err := s.resolve(ctx, rq, fh)
	if code := s.status(w, err); code != nfs.NFSStatusOk {
		w.targetAttr(t)
		return code, nil
	}
	w.targetAttr(t)
	io := s.cfg.MaxIOSize
	w.uint32(io)       // rtmax
	w.uint32(io)       // rtpref
	w.uint32(4096)     // rtmult
	w.uint32(io)       // wtmax
	w.uint32(io)       // wtpref
	w.uint32(4096)     // wtmult
	w.uint32(64 << 10) // dtpref
	w.uint64(fs.MaxFileSize)
	w.uint32(0) // time_delta: nanosecond timestamps
	w.uint32(1)
	w.uint32(fsfLink | fsfSymlink | fsfHomogeneous | fsfCanSetTime)
	return nfs.NFSStatusOk, nil
}

// linkMax is the filesystem's hard-link limit (as ext4's).
const linkMax = 65000

func nfsPathconf(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	fh := rq.args.opaque(maxFH)
	if rq.args.err != nil {
		return 0, errGarbage
	}
	t, err := s.resolve(ctx, rq, fh)
	if code := s.status(w, err); code != nfs.NFSStatusOk {
		w.targetAttr(t)
		return code, nil
	}
	w.targetAttr(t)
	w.uint32(linkMax)
	w.uint32(fs.MaxNameLen)
	w.bool(true)  // no_trunc: long names are refused, not cut
	w.bool(true)  // chown_restricted
	w.bool(false) // case_insensitive
	w.bool(true)  // case_preserving
	return nfs.NFSStatusOk, nil
}
