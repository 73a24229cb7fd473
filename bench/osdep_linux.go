package main

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// detachMount lazily unmounts dir (MNT_DETACH): always succeeds once
// nothing new opens the mount.
func detachMount(dir string) error { return syscall.Unmount(dir, syscall.MNT_DETACH) }

// serverProcAttr puts a server in its own process group; Pdeathsig: if
// the bench dies unannounced, its servers unmount.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// adviseRandom turns readahead off for f (POSIX_FADV_RANDOM, as fio
// does).
func adviseRandom(f *os.File) error {
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_RANDOM)
}
