//go:build !linux

package csi_test

import "golang.org/x/sys/unix"

// detach force-unmounts what a test left at dir: there is no lazy unmount
// off Linux.
func detach(dir string) { unix.Unmount(dir, unix.MNT_FORCE) }
