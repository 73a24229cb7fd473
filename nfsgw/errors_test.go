package nfsgw

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	nfs "github.com/willscott/go-nfs"
)

// TestNFSStatus pins the one errno-to-nfsstat3 mapping: an errno wins over
// the deadline it may wrap (the fs core reports a store that timed out as
// EIO), a bare deadline asks the client to retry, and an error that says
// nothing the protocol knows is a server fault.
func TestNFSStatus(t *testing.T) {
	timedOut := fmt.Errorf("etcd: %w", context.DeadlineExceeded)
	for _, tc := range []struct {
		name string
		err  error
		want nfs.NFSStatus
	}{
		{"nil", nil, nfs.NFSStatusOk},
		{"wrapped ENOENT", fmt.Errorf("lookup x: %w", syscall.ENOENT), nfs.NFSStatusNoEnt},
		{"store timeout marked EIO", fmt.Errorf("%w: %w", timedOut, syscall.EIO), nfs.NFSStatusIO},
		{"bare deadline", timedOut, nfs.NFSStatusJukebox},
		{"busy", syscall.EBUSY, nfs.NFSStatusJukebox},
		{"quota", fmt.Errorf("write: %w", syscall.EDQUOT), nfs.NFSStatusDQuot},
		{"forged handle", fmt.Errorf("decode: %w", errBadHandle), nfs.NFSStatusBadHandle},
		{"unmapped errno", syscall.ENOTTY, nfs.NFSStatusServerFault},
		{"no errno", errors.New("something else"), nfs.NFSStatusServerFault},
	} {
		if got := nfsStatus(tc.err); got != tc.want {
			t.Errorf("%s: nfsStatus(%v) = %s, want %s", tc.name, tc.err, statusName(got), statusName(tc.want))
		}
	}
}
