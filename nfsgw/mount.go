package nfsgw

import (
	"context"
	"fmt"
	"net/netip"
	"path"
	"strings"
	"sync"
	"syscall"

	nfs "github.com/willscott/go-nfs"

	"github.com/cairn-storage/cairn/fs"
)

// maxMountPath bounds a MOUNT dirpath (MNTPATHLEN).
const maxMountPath = 1024

func init() {
	procs := make([]procedure, nfs.MountProcExport+1)
	for i, fn := range []procFunc{mountNull, mountMnt, mountDump, mountUmnt, mountUmntAll, mountExport} {
		procs[i] = procedure{name: nfs.MountProcedure(i).String(), fn: fn}
	}
	programs[progMount] = &program{name: "mount", low: 3, high: 3, procs: procs}
}

// mountTable remembers who mounted what, for DUMP and the logs. Like
// knfsd's rmtab it is advisory: handles work without it.
type mountTable struct {
	mu      sync.Mutex
	entries []mountEntry
}

type mountEntry struct {
	client netip.Addr
	path   string
}

func (m *mountTable) add(e mountEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, old := range m.entries {
		if old == e {
			return
		}
	}
	m.entries = append(m.entries, e)
}

// remove forgets the client's mount of path, or all of its mounts if path is "".
func (m *mountTable) remove(client netip.Addr, path string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	kept := m.entries[:0]
	for _, e := range m.entries {
		if e.client != client || (path != "" && e.path != path) {
			kept = append(kept, e)
		}
	}
	m.entries = kept
}

func (m *mountTable) list() []mountEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mountEntry(nil), m.entries...)
}

func mountNull(context.Context, *Server, *request, *xdrWriter) (nfs.NFSStatus, error) {
	return nfs.NFSStatusOk, nil
}

func mountMnt(ctx context.Context, s *Server, rq *request, w *xdrWriter) (nfs.NFSStatus, error) {
	dirpath := rq.args.string(maxMountPath)
	if rq.args.err != nil {
		return 0, errGarbage
	}
	fh, err := s.mount(ctx, rq, dirpath)
	st := mountStatus(err)
	w.uint32(uint32(st))
	if err != nil {
		s.log.Warn("mount refused", "client", rq.client.String(), "path", dirpath, "status", statusName(nfs.NFSStatus(st)), "err", err)
		return nfs.NFSStatus(st), nil
	}
	w.opaque(fh)
	w.uint32(1) // one flavor:
	w.uint32(flavorSys)
	uid := -1
	if rq.cred != nil {
		uid = int(rq.cred.UID)
	}
	s.log.Info("client mounted", "client", rq.client.String(), "path", dirpath, "uid", uid)
	s.mounts.add(mountEntry{client: rq.client, path: dirpath})
	return nfs.NFSStatusOk, nil
}

// mount resolves a MOUNT path, /VOLUME or /VOLUME/sub/dir, to the handle
// of its directory, checking that the client may use the export.
func (s *Server) mount(ctx context.Context, rq *request, dirpath string) ([]byte, error) {
	clean := path.Clean("/" + dirpath)
	vol, rest, _ := strings.Cut(strings.TrimPrefix(clean, "/"), "/")
	if vol == "" {
		return nil, fmt.Errorf("mount path %q names no volume: %w", dirpath, syscall.ENOENT)
	}
	exp, err := s.exports.byVolumeName(ctx, vol)
	if err != nil {
		return nil, err
	}
	if err := exp.admits(rq.from()); err != nil {
		// mountd answers ACCES for a refused port too (MNT3ERR_PERM is
		// "not owner"), so the errno is replaced, its message kept.
		return nil, fmt.Errorf("%s: %w", err, syscall.EACCES)
	}
	caller := exp.caller(rq.cred)
	a, err := exp.vol.GetAttr(ctx, fs.RootIno)
	for _, name := range strings.Split(rest, "/") {
		if err != nil || name == "" {
			break
		}
		a, err = exp.vol.Lookup(ctx, caller, a.Ino, name)
	}
	if err != nil {
		return nil, err
	}
	if !a.IsDir() {
		return nil, fmt.Errorf("mount path %q: %w", dirpath, syscall.ENOTDIR)
	}
	s.clients.seen(rq.client, exp.Volume)
	return s.handles.encode(fileID{Vol: exp.id, Ino: a.Ino, Gen: a.Gen}), nil
}

func mountDump(_ context.Context, s *Server, _ *request, w *xdrWriter) (nfs.NFSStatus, error) {
	for _, e := range s.mounts.list() {
		w.bool(true)
		w.string(e.client.String())
		w.string(e.path)
	}
	w.bool(false)
	return nfs.NFSStatusOk, nil
}

func mountUmnt(_ context.Context, s *Server, rq *request, _ *xdrWriter) (nfs.NFSStatus, error) {
	dirpath := rq.args.string(maxMountPath)
	if rq.args.err != nil {
		return 0, errGarbage
	}
	s.log.Info("client unmounted", "client", rq.client.String(), "path", dirpath)
	s.mounts.remove(rq.client, dirpath)
	return nfs.NFSStatusOk, nil
}

func mountUmntAll(_ context.Context, s *Server, rq *request, _ *xdrWriter) (nfs.NFSStatus, error) {
	s.log.Info("client unmounted everything", "client", rq.client.String())
	s.mounts.remove(rq.client, "")
	return nfs.NFSStatusOk, nil
}

// mountExport lists the exports and, as their groups, the networks
// allowed to mount them (no groups: every client).
func mountExport(ctx context.Context, s *Server, _ *request, w *xdrWriter) (nfs.NFSStatus, error) {
	exports, err := s.exports.list(ctx)
	if err != nil {
		// EXPORT has no status: answer with what is known, the explicit exports.
		s.log.Warn("listing volumes for EXPORT", "err", err)
	}
	for _, e := range exports {
		w.bool(true)
		w.string("/" + e.Volume)
		for _, n := range e.AllowedNets {
			w.bool(true)
			w.string(n.String())
		}
		w.bool(false)
	}
	w.bool(false)
	return nfs.NFSStatusOk, nil
}
