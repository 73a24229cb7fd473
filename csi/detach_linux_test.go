package csi_test

import "golang.org/x/sys/unix"

// detach lazily unmounts what a test left at dir, even a dead FUSE mount.
func detach(dir string) { unix.Unmount(dir, unix.MNT_DETACH) }
