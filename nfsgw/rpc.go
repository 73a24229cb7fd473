package nfsgw

import (
	"errors"
)

// ONC RPC (RFC 5531) constants.
const (
	rpcVersion = 2

	msgCall  = 0
	msgReply = 1

	msgAccepted = 0
	msgDenied   = 1

	acceptSuccess      = 0
	acceptProgUnavail  = 1
	acceptProgMismatch = 2
	acceptProcUnavail  = 3
	acceptGarbageArgs  = 4
	acceptSystemErr    = 5

	rejectRPCMismatch = 0
	rejectAuthError   = 1

	authBadCred = 1
	authTooWeak = 5

	flavorNull = 0
	flavorSys  = 1

	maxAuthBody    = 400
	maxMachineName = 255
	maxAuthGroups  = 16
)

// Program numbers.
const (
	progPortmap = 100000
	progNFS     = 100003
	progMount   = 100005
)

// authSys holds AUTH_SYS (AUTH_UNIX) credentials.
type authSys struct {
	Stamp   uint32
	Machine string
	UID     uint32
	GID     uint32
	GIDs    []uint32
}

// rpcCall is a decoded call header and its undecoded arguments.
type rpcCall struct {
	xid              uint32
	prog, vers, proc uint32
	cred             *authSys // nil for AUTH_NULL
	args             xdrReader
}

// errNotCall reports a record that is not an RPC call; it is dropped.
var errNotCall = errors.New("not an RPC call")

// decodeCall parses the RPC call header of a record. When the call must
// be refused before dispatch (wrong RPC version, bad credentials), it
// returns the complete refusal as reply. Records too broken to answer
// give errNotCall.
func decodeCall(rec []byte) (c *rpcCall, reply []byte, err error) {
	r := xdrReader{b: rec}
	c = &rpcCall{xid: r.uint32()}
	mtype := r.uint32()
	if r.err != nil || mtype != msgCall {
		return nil, nil, errNotCall
	}
	rpcvers := r.uint32()
	c.prog, c.vers, c.proc = r.uint32(), r.uint32(), r.uint32()
	if r.err != nil {
		return nil, nil, errNotCall
	}
	if rpcvers != rpcVersion {
		w := &xdrWriter{}
		replyDenied(w, c.xid, rejectRPCMismatch)
		w.uint32(rpcVersion)
		w.uint32(rpcVersion)
		return nil, w.b, nil
	}
	flavor := r.uint32()
	body := r.opaque(maxAuthBody)
	r.uint32() // verifier flavor: we answer with AUTH_NULL whatever it is
	r.opaque(maxAuthBody)
	if r.err != nil {
		w := &xdrWriter{}
		replyAccepted(w, c.xid, acceptGarbageArgs)
		return nil, w.b, nil
	}
	switch flavor {
	case flavorNull:
	case flavorSys:
		cred, ok := decodeAuthSys(body)
		if !ok {
			return nil, authError(c.xid, authBadCred), nil
		}
		c.cred = cred
	default:
		return nil, authError(c.xid, authTooWeak), nil
	}
	c.args = r
	return c, nil, nil
}

func decodeAuthSys(body []byte) (*authSys, bool) {
	r := xdrReader{b: body}
	a := &authSys{Stamp: r.uint32(), Machine: r.string(maxMachineName), UID: r.uint32(), GID: r.uint32()}
	n := r.uint32()
	if r.err != nil || n > maxAuthGroups {
		return nil, false
	}
	a.GIDs = make([]uint32, 0, n)
	for range n {
		a.GIDs = append(a.GIDs, r.uint32())
	}
	return a, r.err == nil
}

func authError(xid, stat uint32) []byte {
	w := &xdrWriter{}
	replyDenied(w, xid, rejectAuthError)
	w.uint32(stat)
	return w.b
}

// replyAccepted writes the header of an accepted reply with an AUTH_NULL
// verifier; the results (or mismatch range) follow.
func replyAccepted(w *xdrWriter, xid, stat uint32) {
	w.uint32(xid)
	w.uint32(msgReply)
	w.uint32(msgAccepted)
	w.uint32(flavorNull)
	w.uint32(0)
	w.uint32(stat)
}

// replyDenied writes the header of a denied reply; its body follows.
func replyDenied(w *xdrWriter, xid, stat uint32) {
	w.uint32(xid)
	w.uint32(msgReply)
	w.uint32(msgDenied)
	w.uint32(stat)
}
