package fusefs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/cairn-storage/cairn/fs"
)

// nobody is the identity used if a request carries none (never expected).
const nobody = 65534

// request is the context of one FUSE request: an uncancellable context
// (see the package documentation) and the caller's identity.
type request struct {
	ctx     context.Context
	c       *fs.Caller
	pid     uint32
	grouped bool // supplementary groups loaded
}

func newRequest(ctx context.Context) *request {
	r := &request{ctx: context.WithoutCancel(ctx), c: &fs.Caller{Uid: nobody, Gid: nobody}}
	if fc, ok := fuse.FromContext(ctx); ok {
		r.c.Uid, r.c.Gid, r.pid = fc.Uid, fc.Gid, fc.Pid
	}
	return r
}

// loadGroups reads the caller's supplementary groups, once. It reports
// whether there are any besides the primary group, that is whether a
// permission check could now turn out differently.
func (r *request) loadGroups() bool {
	if r.grouped || r.pid == 0 || r.c.Uid == 0 {
		return false
	}
	r.grouped = true
	groups, err := procGroups(r.pid)
	if err != nil {
		return false // the process is gone: its request hardly matters
	}
	r.c.Groups = groups
	for _, g := range groups {
		if g != r.c.Gid {
			return true
		}
	}
	return false
}

// procGroups returns the supplementary groups of process (or thread) pid
// from the "Groups:" line of /proc/PID/status.
func procGroups(pid uint32) ([]uint32, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte("Groups:"))
		if !ok {
			continue
		}
		var groups []uint32
		for _, f := range bytes.Fields(rest) {
			g, err := strconv.ParseUint(string(f), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("/proc/%d/status: bad group %q", pid, f)
			}
			groups = append(groups, uint32(g))
		}
		return groups, nil
	}
	return nil, fmt.Errorf("/proc/%d/status: no Groups line", pid)
}

// do runs one fs operation for r and maps its error. An operation refused
// with EACCES or EPERM is retried once with the caller's supplementary
// groups: fs operations fail before changing anything, so the retry is
// safe.
func (m *mount) do(r *request, op string, fn func(c *fs.Caller) error) syscall.Errno {
	err := fn(r.c)
	if denied(err) && r.loadGroups() {
		err = fn(r.c)
	}
	return m.errno(op, err)
}

func denied(err error) bool {
	return errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}
