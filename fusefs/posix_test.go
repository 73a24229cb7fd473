//go:build linux

// go-fuse's posixtest uses O_DIRECT, which macOS lacks.

package fusefs

import (
	"slices"
	"strings"
	"testing"

	"github.com/hanwen/go-fuse/v2/posixtest"
)

// posixSkips are the posixtest tests that cannot pass on any mount, with
// the reason.
var posixSkips = map[string]string{
	"FcntlFlockLocksFile": "the test expects a read lock to conflict with a write lock taken " +
		"by the same process; POSIX record locks never conflict within one process, so it " +
		"fails on every filesystem (ext4 included); go-fuse's own TestAll skips it too",
}

// TestPosix runs go-fuse's POSIX conformance suite, each test on a fresh
// volume and mount, with and without the kernel's writeback cache.
func TestPosix(t *testing.T) {
	requireFUSE(t)
	d := openData(t, t.TempDir(), nil)
	names := make([]string, 0, len(posixtest.All))
	for name := range posixtest.All {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, writeback := range []bool{false, true} {
		mode := map[bool]string{false: "default", true: "writeback"}[writeback]
		for _, name := range names {
			t.Run(mode+"/"+name, func(t *testing.T) {
				if reason, ok := posixSkips[name]; ok {
					t.Skip(reason)
				}
				vol := newVolume(t, d, mode+"-"+strings.ToLower(name))
				mnt := mountVolume(t, vol, Options{Writeback: writeback})
				posixtest.All[name](t, mnt)
			})
		}
	}
}
