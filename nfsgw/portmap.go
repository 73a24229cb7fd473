package nfsgw

import (
	"context"

	nfs "github.com/willscott/go-nfs"
)

// A minimal portmapper (RFC 1833, version 2) so that clients find the NFS
// and MOUNT port without options: `mount -t nfs host:/vol /mnt` asks port
// 111 first. It knows only this gateway's programs and refuses
// registrations. Clients that ask rpcbind versions 3 or 4 get
// PROG_MISMATCH and fall back to version 2, as Linux's mount.nfs does.

const (
	ipprotoTCP = 6

	pmapNull    = 0
	pmapSet     = 1
	pmapUnset   = 2
	pmapGetport = 3
	pmapDump    = 4
)

func init() {
	procs := []procedure{
		pmapNull: {"Null", mountNull}, pmapSet: {"Set", pmapRefuse}, pmapUnset: {"Unset", pmapRefuse},
		pmapGetport: {"GetPort", pmapGetPort}, pmapDump: {"Dump", pmapDumpProc},
	}
	programs[progPortmap] = &program{name: "portmap", low: 2, high: 2, procs: procs}
}

// pmapMapping is one registered service.
type pmapMapping struct{ prog, vers, prot, port uint32 }

// mappings lists the services this gateway offers, over TCP only.
func (s *Server) mappings() []pmapMapping {
	var out []pmapMapping
	if p := s.pmPort.Load(); p != 0 {
		out = append(out, pmapMapping{progPortmap, 2, ipprotoTCP, p})
	}
	if p := s.nfsPort.Load(); p != 0 {
		out = append(out, pmapMapping{progNFS, 3, ipprotoTCP, p}, pmapMapping{progMount, 3, ipprotoTCP, p})
	}
	return out
}

// pmapRefuse answers SET and UNSET: other services cannot register here.
func pmapRefuse(_ context.Context, _ *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	rq.args.uint32()
	rq.args.uint32()
	rq.args.uint32()
	rq.args.uint32()
	if rq.args.err != nil {
		return 0, errGarbage
	}
	w.bool(false)
	return nfs.NFSStatusOk, nil
}

func pmapGetPort(_ context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	want := pmapMapping{rq.args.uint32(), rq.args.uint32(), rq.args.uint32(), rq.args.uint32()}
	if rq.args.err != nil {
		return 0, errGarbage
	}
	var port uint32
	for _, m := range s.mappings() {
		if m.prog == want.prog && m.vers == want.vers && m.prot == want.prot {
			port = m.port
		}
	}
	w.uint32(port)
	return nfs.NFSStatusOk, nil
}

func pmapDumpProc(_ context.Context, s *Server, _ *request, w *xdrWriter) (nfs.NFSStatus, error) {
	for _, m := range s.mappings() {
		w.bool(true)
		w.uint32(m.prog)
		w.uint32(m.vers)
		w.uint32(m.prot)
		w.uint32(m.port)
	}
	w.bool(false)
	return nfs.NFSStatusOk, nil
}
