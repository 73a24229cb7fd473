package control

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
)

// nfsRecent is how long after its last request an NFS client counts as
// using a volume: the gateway keeps a file's handle open 5 s after it.
const nfsRecent = 30 * time.Second

// holders describes who holds volume: the daemon's FUSE mounts of it and
// the NFS clients that used it recently; "" if nobody.
func (s *Server) holders(volume string) string {
	var parts []string
	for _, m := range s.mounts.of(volume) {
		parts = append(parts, fmt.Sprintf("FUSE mount %s (%s)", m.Mountpoint, m.Owner))
	}
	if s.cfg.NFS != nil {
		for _, c := range s.cfg.NFS.Clients() {
			if c.Volume == volume && time.Since(c.LastSeen) < nfsRecent {
				parts = append(parts, fmt.Sprintf("NFS client %s (last request %s ago)", c.Address,
					time.Since(c.LastSeen).Round(time.Second)))
			}
		}
	}
	return strings.Join(parts, ", ")
}

// inUse refuses (FailedPrecondition) to verb a volume that a mount or a
// recent NFS client holds, naming them.
func (s *Server) inUse(_ context.Context, volume, verb string) error {
	if h := s.holders(volume); h != "" {
		return errorf(codes.FailedPrecondition, "cannot %s volume %s: it is in use by %s; unmount it (cairn unmount DIR) and stop its NFS clients first",
			verb, volume, h)
	}
	return nil
}

// busy explains an EBUSY from the core: the volume is open in this
// process though no mount holds it (the NFS gateway's cached handles,
// closed 5 s after their last request).
func (s *Server) busy(volume, verb string, err error) error {
	if !errors.Is(err, syscall.EBUSY) {
		return err
	}
	return errorf(codes.FailedPrecondition, "cannot %s volume %s: it is open (%v): the NFS gateway keeps files open for 5 s after their last request; stop its clients and retry",
		verb, volume, err)
}
