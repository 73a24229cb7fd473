package control

import "syscall"

// detach lazily unmounts dir: it leaves the namespace at once and the
// FUSE server keeps serving the files still open.
func detach(dir string) error { return syscall.Unmount(dir, syscall.MNT_DETACH) }
