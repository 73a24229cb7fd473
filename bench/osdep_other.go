//go:build !linux

package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// The bench reads /proc and drops Linux's caches, so it only measures on
// Linux; these stand-ins let it build (and be vetted) elsewhere.

// detachMount fails: lazy unmounts (MNT_DETACH) are Linux's.
func detachMount(dir string) error {
	return fmt.Errorf("lazy unmount of %s needs Linux: %w", dir, errors.ErrUnsupported)
}

// serverProcAttr puts a server in its own process group; without
// Pdeathsig a bench that dies unannounced leaves its servers running.
func serverProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// adviseRandom fails: POSIX_FADV_RANDOM is Linux's, and random reads
// with readahead on would not measure the same thing.
func adviseRandom(*os.File) error {
	return fmt.Errorf("fadvise needs Linux: %w", errors.ErrUnsupported)
}
