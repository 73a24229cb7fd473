package nfsgw

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	nfs "github.com/willscott/go-nfs"

	"github.com/cairn-storage/cairn/fs"
)

// maxFH is the largest nfs_fh3 (NFS3_FHSIZE).
const maxFH = 64

// maxName and maxPath bound the names and symlink targets decoded; the
// filesystem enforces its own, smaller limits with the right errors.
const (
	maxName = 1024
	maxPath = 8192
)

// target is a file handle resolved for one call.
type target struct {
	exp    *export
	ino    fs.Ino
	attr   fs.Attr // as the call began
	caller *fs.Caller
	// snapDir: t is the .snapshots directory of exp (ino is snapDirIno).
	snapDir bool
}

func (t *target) vol() *fs.Volume { return t.exp.vol }

// resolve checks a file handle and loads its inode for the client of rq.
// A forged or altered handle is BADHANDLE; one naming a deleted file (or
// a volume gone or no longer exported) is STALE; a client outside the
// export's networks is refused with ACCES.
func (s *Server) resolve(ctx context.Context, rq *request, fh []byte) (*target, error) {
	id, err := s.handles.decode(fh)
	if err != nil {
		return nil, err
	}
	exp, err := s.exports.byVolumeID(ctx, id.Vol)
	if err != nil {
		return nil, err
	}
	if err := exp.admits(rq.from()); err != nil {
		// Debug, not Warn: a refused client may send many calls; its
		// MOUNT refusal is what gets logged.
		s.log.Debug("refused a handle", "client", rq.from().String(), "volume", exp.Volume, "err", err)
		return nil, err
	}
	s.clients.seen(rq.client, exp.mounted())
	if id.Kind == kindSnapDir {
		if !s.exports.hasSnapDir(exp) {
			return nil, fmt.Errorf("volume %q has no .snapshots: %w", exp.Volume, syscall.ESTALE)
		}
		a, err := snapDirAttr(ctx, exp)
		if err != nil {
			return nil, err
		}
		return &target{exp: exp, ino: snapDirIno, attr: a, caller: exp.caller(rq.cred), snapDir: true}, nil
	}
	a, err := exp.vol.GetAttr(ctx, id.Ino)
	if errors.Is(err, syscall.ENOENT) {
		return nil, fmt.Errorf("inode %d: %w", id.Ino, syscall.ESTALE)
	} else if err != nil {
		return nil, err
	}
	// An unlinked file lives on only while open; to clients it is gone.
	if a.Gen != id.Gen || a.Nlink == 0 {
		return nil, fmt.Errorf("inode %d: %w", id.Ino, syscall.ESTALE)
	}
	return &target{exp: exp, ino: id.Ino, attr: a, caller: exp.caller(rq.cred)}, nil
}

// writable refuses changes to a read-only export.
func (t *target) writable() error {
	if t.exp.ReadOnly || t.snapDir {
		return fmt.Errorf("export %q is read-only: %w", t.exp.Volume, syscall.EROFS)
	}
	return nil
}

// handle returns the signed handle of an inode of the target's volume.
func (s *Server) handle(t *target, a *fs.Attr) []byte { return s.handleIn(t.exp, a) }

// handleIn returns the signed handle of an inode of e's volume, or of
// its .snapshots directory.
func (s *Server) handleIn(e *export, a *fs.Attr) []byte {
	if a.Ino == snapDirIno {
		return s.handles.encode(fileID{Kind: kindSnapDir, Vol: e.id})
	}
	return s.handles.encode(fileID{Vol: e.id, Ino: a.Ino, Gen: a.Gen})
}

// mayIO checks that the caller may read (or write) the regular file of t.
// As knfsd does, the owner may always do I/O on their file: NFS checks
// each call, but a local process that created a file read-only, or
// chmod-ed it after opening, keeps its access. Reading also passes with
// execute permission, since running a program reads it.
func (t *target) mayIO(ctx context.Context, write bool) error {
	switch {
	case t.attr.IsDir():
		return syscall.EISDIR
	case !t.attr.IsRegular():
		return syscall.EINVAL
	}
	if write {
		if err := t.writable(); err != nil {
			return err
		}
	}
	if t.caller.Uid == t.attr.Uid {
		return nil
	}
	if write {
		return t.vol().Access(ctx, t.caller, t.ino, fs.MayWrite)
	}
	if err := t.vol().Access(ctx, t.caller, t.ino, fs.MayRead); err == nil {
		return nil
	}
	return t.vol().Access(ctx, t.caller, t.ino, fs.MayExec)
}

// status writes the nfsstat3 of err and returns it. Failures that are the
// server's fault are logged.
func (s *Server) status(w *xdrWriter, err error) nfs.NFSStatus {
	st := nfsStatus(err)
	if st == nfs.NFSStatusServerFault || st == nfs.NFSStatusIO {
		s.log.Warn("NFS call failed", "status", statusName(st), "err", err)
	}
	w.uint32(uint32(st))
	return st
}

// postOpAttrTimeout bounds the metadata read of a reply's post-operation
// attributes.
const postOpAttrTimeout = 2 * time.Second

// attrAfter returns the current attributes of ino, or nil if they can't
// be read (post-operation attributes are optional).
func attrAfter(ctx context.Context, vol *fs.Volume, ino fs.Ino) *fs.Attr {
	// The attributes are optional in the reply: they must not hold back
	// the status (an error, often) while the metadata store is away.
	ctx, cancel := context.WithTimeout(ctx, postOpAttrTimeout)
	defer cancel()
	a, err := vol.GetAttr(ctx, ino)
	if err != nil {
		return nil
	}
	return &a
}

// diropArgs decodes a diropargs3: a directory handle and a name.
func diropArgs(r *xdrReader) (fh []byte, name string) {
	return r.opaque(maxFH), r.string(maxName)
}

// targetAttr writes the post_op_attr of t as the call began (none if the
// handle did not resolve).
func (w *xdrWriter) targetAttr(t *target) {
	if t == nil {
		w.postOpAttr(0, nil)
		return
	}
	w.postOpAttr(t.exp.id, &t.attr)
}

// targetWcc writes the wcc_data of t: its attributes as the call began
// and as they are now.
func (w *xdrWriter) targetWcc(ctx context.Context, t *target) {
	if t == nil {
		w.wcc(0, nil, nil)
		return
	}
	w.wcc(t.exp.id, &t.attr, attrAfter(ctx, t.vol(), t.ino))
}
