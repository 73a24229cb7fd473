package nfsgw

import (
	"context"
	"encoding/binary"
	"sync"
	"syscall"

	nfs "github.com/willscott/go-nfs"

	"github.com/cairn-storage/cairn/fs"
)

// stable_how values of WRITE.
const (
	unstable = 0
	fileSync = 2
)

// readBufs recycles READ buffers, which are up to MaxIOSize each.
var readBufs = sync.Pool{New: func() any { b := make([]byte, maxIOSize); return &b }}

func nfsRead(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	fh := rq.args.opaque(maxFH)
	off, count := rq.args.uint64(), rq.args.uint32()
	if rq.args.err != nil {
		return 0, errGarbage
	}
	t, err := s.resolve(ctx, rq, fh)
	if err == nil {
		err = t.mayIO(ctx, false)
	}
	var n int
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	if err == nil && count > 0 && off < t.attr.Size {
		n, err = s.readAt(ctx, t, (*bp)[:min(count, s.cfg.MaxIOSize)], off)
	}
	if st := s.status(w, err); st != nfs.NFSStatusOk {
		w.targetAttr(t)
		return st, nil
	}
	s.metrics.bytes.WithLabelValues("read").Add(float64(n))
	w.targetAttr(t)
	w.uint32(uint32(n))
	w.bool(off+uint64(n) >= t.attr.Size)
	w.opaque((*bp)[:n])
	return nfs.NFSStatusOk, nil
}

// readAt reads through the cached open file of t.
func (s *Server) readAt(ctx context.Context, t *target, p []byte, off uint64) (int, error) {
	f, err := s.files.get(ctx, t.vol(), t.exp.id, t.ino)
	if err != nil {
		return 0, err
	}
	defer s.files.put(f)
	if off > 1<<62 {
		return 0, nil
	}
	return f.h.Read(ctx, p, int64(off))
}

func nfsWrite(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	fh := rq.args.opaque(maxFH)
	off, count, how := rq.args.uint64(), rq.args.uint32(), rq.args.uint32()
	data := rq.args.opaque(maxIOSize)
	if rq.args.err != nil || how > fileSync {
		return 0, errGarbage
	}
	data = data[:min(uint32(len(data)), count)]
	t, err := s.resolve(ctx, rq, fh)
	if err == nil {
		err = t.mayIO(ctx, true)
	}
	if err == nil {
		err = s.writeAt(ctx, t, data, off, how != unstable)
	}
	if st := s.status(w, err); st != nfs.NFSStatusOk {
		w.targetWcc(ctx, t)
		return st, nil
	}
	s.metrics.bytes.WithLabelValues("write").Add(float64(len(data)))
	w.targetWcc(ctx, t)
	w.uint32(uint32(len(data)))
	if how != unstable {
		how = fileSync // a sync write makes all of the file durable
	}
	w.uint32(how)
	w.verifier(s.verf.Load())
	return nfs.NFSStatusOk, nil
}

// writeAt writes through the cached open file of t; a stable write is
// made durable before it returns.
func (s *Server) writeAt(ctx context.Context, t *target, p []byte, off uint64, stable bool) error {
	if off > fs.MaxFileSize {
		return syscall.EFBIG
	}
	f, err := s.files.get(ctx, t.vol(), t.exp.id, t.ino)
	if err != nil {
		return err
	}
	defer s.files.put(f)
	// The handle is shared; the write clears set-user-ID as the caller's would.
	if _, err := f.h.WriteAs(ctx, t.caller, p, int64(off)); err != nil {
		return err
	}
	if stable {
		return f.h.Fsync(ctx)
	}
	return nil
}

func (w *xdrWriter) verifier(v uint64) {
	w.b = binary.BigEndian.AppendUint64(w.b, v)
}

func nfsCommit(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	fh := rq.args.opaque(maxFH)
	rq.args.uint64() // offset and count: a commit makes the whole file durable
	rq.args.uint32()
	if rq.args.err != nil {
		return 0, errGarbage
	}
	t, err := s.resolve(ctx, rq, fh)
	if err == nil && !t.attr.IsRegular() {
		err = syscall.EINVAL
	}
	if err == nil {
		err = s.commit(ctx, t)
	}
	if st := s.status(w, err); st != nfs.NFSStatusOk {
		w.targetWcc(ctx, t)
		return st, nil
	}
	w.targetWcc(ctx, t)
	w.verifier(s.verf.Load())
	return nfs.NFSStatusOk, nil
}

// commit stores the file's buffered writes and makes them durable. The
// open file is fetched even if it was closed meanwhile: closing stored
// the writes but did not sync the stores.
func (s *Server) commit(ctx context.Context, t *target) error {
	f, err := s.files.get(ctx, t.vol(), t.exp.id, t.ino)
	if err != nil {
		return err
	}
	defer s.files.put(f)
	return f.h.Fsync(ctx)
}
