package csi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"
)

// genericFlags are the options mount(8) turns into mount(2) flags (set,
// or cleared when the value is 0) rather than handing them to NFS.
var genericFlags = map[string]uintptr{
	"ro": unix.MS_RDONLY, "rw": 0, "nosuid": unix.MS_NOSUID, "suid": 0,
	"nodev": unix.MS_NODEV, "dev": 0, "noexec": unix.MS_NOEXEC, "exec": 0,
	"sync": unix.MS_SYNCHRONOUS, "async": 0, "dirsync": unix.MS_DIRSYNC,
	"noatime": unix.MS_NOATIME, "atime": 0, "nodiratime": unix.MS_NODIRATIME,
	"relatime": unix.MS_RELATIME, "strictatime": unix.MS_STRICTATIME,
	"defaults": 0,
}

// userspaceOnly are options of mount(8) and mount.nfs that the kernel
// does not take.
var userspaceOnly = map[string]bool{
	"_netdev": true, "nofail": true, "auto": true, "noauto": true, "user": true,
	"nouser": true, "bg": true, "fg": true, "retry": true,
}

// Kernel returns the flags and data of the mount(2) call equivalent to
// mount(8) of m, given the server's address: the kernel's NFS client
// takes text options and speaks rpcbind and MOUNT itself, but doesn't
// resolve names (addr=).
func (m NFSMount) Kernel(addr net.IP) (flags uintptr, data string) {
	opts := []string{}
	hasAddr := false
	for _, o := range m.Options {
		key, _, _ := strings.Cut(o, "=")
		if f, ok := genericFlags[key]; ok {
			flags |= f
			if key == "rw" {
				flags &^= unix.MS_RDONLY
			}
			continue
		}
		if userspaceOnly[key] {
			continue
		}
		hasAddr = hasAddr || key == "addr"
		opts = append(opts, o)
	}
	if !hasAddr {
		opts = append(opts, "addr="+addr.String())
	}
	return flags, strings.Join(opts, ",")
}

// mountNFS makes m: with mount(8) when this system has one (mount.nfs
// may start statd, honours /etc/nfsmount.conf), else through mount(2),
// which is what the FROM-scratch plugin image does.
func mountNFS(ctx context.Context, m NFSMount) error {
	if _, err := exec.LookPath("mount"); err == nil {
		argv := m.Argv()
		if out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, m.Server)
	if err != nil {
		return fmt.Errorf("mount %s: resolve %s: %w", m.Source(), m.Server, err)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("mount %s: %s has no address", m.Source(), m.Server)
	}
	flags, data := m.Kernel(addrs[0].IP)
	if err := unix.Mount(m.Source(), m.Target, "nfs", flags, data); err != nil {
		if errors.Is(err, unix.ENODEV) {
			err = fmt.Errorf("%w (this kernel has no NFS client: modprobe nfs)", err)
		}
		return fmt.Errorf("mount(2) %s at %s -o %s: %w", m.Source(), m.Target, data, err)
	}
	return nil
}
