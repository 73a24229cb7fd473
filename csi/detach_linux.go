package csi

import "golang.org/x/sys/unix"

// detachMount lazily unmounts target (umount -l): it leaves the namespace
// now and goes away once no longer busy, which a dead FUSE mount needs.
func detachMount(target string) error { return unix.Unmount(target, unix.MNT_DETACH) }
