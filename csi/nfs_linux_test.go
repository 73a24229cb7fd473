package csi_test

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/cairn-storage/cairn/csi"
)

// TestNFSKernelMount checks the mount(2) call a plugin image without
// mount(8) makes: generic options become flags, options of mount(8) alone
// are dropped, and the server's address is given (the kernel resolves no
// names).
func TestNFSKernelMount(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []string
		addr  string
		flags uintptr
		data  string
	}{
		{"defaults", []string{"vers=3", "nolock"}, "10.0.0.7", 0, "vers=3,nolock,addr=10.0.0.7"},
		{"generic flags", []string{"vers=3", "ro", "nosuid", "nodev", "noexec", "noatime", "hard"}, "10.0.0.7",
			unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME, "vers=3,hard,addr=10.0.0.7"},
		{"rw after ro", []string{"ro", "rw", "vers=3"}, "10.0.0.7", 0, "vers=3,addr=10.0.0.7"},
		{"userspace options", []string{"vers=3", "_netdev", "bg", "retry=5", "nofail", "timeo=600"}, "10.0.0.7", 0,
			"vers=3,timeo=600,addr=10.0.0.7"},
		{"IPv6", []string{"nfsvers=3", "port=2049", "mountport=2049"}, "fd00::7", 0, "nfsvers=3,port=2049,mountport=2049,addr=fd00::7"},
		{"explicit addr", []string{"vers=3", "addr=10.9.9.9"}, "10.0.0.7", 0, "vers=3,addr=10.9.9.9"},
	} {
		m := csi.NFSMount{Server: "gw", Path: "/pvc-1", Target: "/t", Options: tc.opts}
		flags, data := m.Kernel(net.ParseIP(tc.addr))
		if flags != tc.flags || data != tc.data {
			t.Errorf("%s: Kernel = %#x %q, want %#x %q", tc.name, flags, data, tc.flags, tc.data)
		}
	}
}
