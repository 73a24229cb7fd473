package nfsgw

import (
	"context"
	"syscall"

	nfs "github.com/willscott/go-nfs"

	"github.com/cairn-storage/cairn/fs"
)

// Directory listings carry the filesystem's entry positions as cookies.
// Those are stable hashes of the names, valid however the directory
// changes, so the cookie verifier is always zero and no cookie is stale.
// Listings start with "." (cookie 1) and ".." (cookie 2), which some
// clients insist on (go-nfs-client compares "."'s times with GETATTR's).

// Sizes of the fixed parts of READDIR and READDIRPLUS replies.
const (
	dirReplyFixed  = 4 + 4 + fattr3Size + 8 + 4 + 4 // status, dir attrs, verifier, end of list, eof
	dirEntryFixed  = 4 + 8 + 8                      // value follows, fileid, cookie (+ name)
	plusEntryExtra = 4 + fattr3Size + 4 + xdrFH     // name attributes and handle
	xdrFH          = 4 + handleSize + (4-handleSize%4)%4
)

// dotCookie and dotdotCookie are the positions of "." and "..", below
// every position the filesystem uses.
const (
	dotCookie    = 1
	dotdotCookie = 2
)

// dirArgs are the arguments of READDIR and READDIRPLUS.
type dirArgs struct {
	fh     []byte
	cookie uint64
	max    uint32 // the largest reply, in bytes
}

func nfsReaddir(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	var a dirArgs
	a.fh, a.cookie = rq.args.opaque(maxFH), rq.args.uint64()
	rq.args.uint64() // cookie verifier, see above
	a.max = rq.args.uint32()
	if rq.args.err != nil {
		return 0, errGarbage
	}
	return s.readdir(ctx, rq, w, a, false), nil
}

func nfsReaddirplus(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	var a dirArgs
	a.fh, a.cookie = rq.args.opaque(maxFH), rq.args.uint64()
	rq.args.uint64()
	rq.args.uint32() // dircount: the names alone; maxcount bounds the whole reply
	a.max = rq.args.uint32()
	if rq.args.err != nil {
		return 0, errGarbage
	}
	return s.readdir(ctx, rq, w, a, true), nil
}

// readdir lists entries after a.cookie until the reply would exceed a.max.
// addParent lists "..": the parent directory, or the export's root itself.
func (s *Server) addParent(ctx context.Context, t *target, add func(*export, fs.DirEntry, *fs.Attr) bool) error {
	attr, exp, err := s.lookup(ctx, t, "..")
	if err != nil {
		return err
	}
	add(exp, fs.DirEntry{Name: "..", Ino: attr.Ino, Cookie: dotdotCookie}, &attr)
	return nil
}

func (s *Server) readdir(ctx context.Context, rq *request, w *xdrWriter, a dirArgs, plus bool) nfs.NFSStatus {
	t, err := s.resolve(ctx, rq, a.fh)
	if err == nil && !t.attr.IsDir() {
		err = syscall.ENOTDIR
	}
	// Entries go to a separate buffer: the status comes first but is
	// known only at the end.
	body := &xdrWriter{b: make([]byte, 0, min(a.max, 64<<10))}
	size, n, eof := dirReplyFixed, 0, true
	add := func(exp *export, e fs.DirEntry, attr *fs.Attr) bool {
		esize := dirEntryFixed + xdrSize(len(e.Name))
		if plus {
			esize += plusEntryExtra
		}
		if size+esize > int(a.max) {
			eof = false
			return false
		}
		size += esize
		n++
		body.bool(true)
		body.uint64(uint64(e.Ino))
		body.string(e.Name)
		body.uint64(e.Cookie)
		if plus && attr != nil {
			body.postOpAttr(exp.id, attr)
			body.postOpFH(s.handleIn(exp, attr))
		} else if plus {
			body.postOpAttr(0, nil)
			body.postOpFH(nil)
		}
		return true
	}
	if err == nil && a.cookie < dotCookie {
		// Listing needs read permission, which "." must not bypass.
		if !t.snapDir {
			err = t.vol().Access(ctx, t.caller, t.ino, fs.MayRead)
		}
		if err == nil {
			add(t.exp, fs.DirEntry{Name: ".", Ino: t.ino, Cookie: dotCookie}, &t.attr)
		}
	}
	if err == nil && eof && a.cookie < dotdotCookie {
		err = s.addParent(ctx, t, add)
	}
	if err == nil && eof && t.snapDir {
		// The snapshots' attributes would mean opening every one.
		var entries []fs.DirEntry
		entries, err = s.snapEntries(ctx, t)
		for _, e := range entries {
			if e.Cookie > a.cookie && !add(t.exp, e, nil) {
				break
			}
		}
	} else if err == nil && eof {
		// .snapshots shadows an entry of that name in the root.
		hide := t.ino == fs.RootIno && s.exports.hasSnapDir(t.exp)
		// Attributes are read per entry sent rather than by ReadDirPlus,
		// which reads them for a whole page of entries when a reply
		// holds only a few dozen.
		err = t.vol().ReadDir(ctx, t.caller, t.ino, a.cookie, func(e fs.DirEntry) bool {
			if hide && e.Name == snapDirName {
				return true
			}
			if !plus {
				return add(t.exp, e, nil)
			}
			attr, err := t.vol().GetAttr(ctx, e.Ino)
			if err != nil {
				return true // removed meanwhile
			}
			return add(t.exp, e, &attr)
		})
	}
	if err == nil && n == 0 && !eof {
		err = errTooSmall
	}
	st := s.status(w, err)
	w.targetAttr(t)
	if st != nfs.NFSStatusOk {
		return st
	}
	w.uint64(0) // cookie verifier
	w.b = append(w.b, body.b...)
	w.bool(false)
	w.bool(eof)
	return st
}
