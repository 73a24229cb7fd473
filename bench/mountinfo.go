package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// mountFSType returns the file-system type mounted at dir ("fuse.cairn",
// "ext4", ...) according to /proc/self/mountinfo, or "" if dir is not a
// mount point. dir must be absolute and free of symbolic links. When
// several mounts are stacked on dir, the last (visible) one wins.
func mountFSType(dir string) (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	fstype := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw
		fields := strings.Fields(sc.Text())
		if len(fields) < 7 || unescapeMountinfo(fields[4]) != dir {
			continue
		}
		for i := 6; i < len(fields)-1; i++ {
			if fields[i] == "-" {
				fstype = fields[i+1]
				break
			}
		}
	}
	return fstype, sc.Err()
}

// unescapeMountinfo undoes the octal escapes (\040 for a space, ...) the
// kernel applies to paths in /proc/self/mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				b.WriteByte(c)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// isFUSEMounted reports whether a FUSE file system is mounted at dir.
func isFUSEMounted(dir string) bool {
	t, err := mountFSType(dir)
	return err == nil && strings.HasPrefix(t, "fuse")
}

// waitMounted polls /proc/self/mountinfo until a FUSE file system appears
// at dir. It gives up when exited is closed (the server died), when
// timeout passes or when ctx is done.
func waitMounted(ctx context.Context, dir string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if isFUSEMounted(dir) {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("server exited before %s was mounted", dir)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not mounted after %v", dir, timeout)
		}
	}
}

// forceUnmount detaches whatever FUSE mount is left at dir: fusermount3 -u
// first, then umount(2), then a lazy umount (MNT_DETACH) that always
// succeeds once nothing new opens the mount.
func forceUnmount(dir string) error {
	if !isFUSEMounted(dir) {
		return nil
	}
	if path, err := exec.LookPath("fusermount3"); err == nil {
		if exec.Command(path, "-u", dir).Run() == nil && !isFUSEMounted(dir) {
			return nil
		}
	}
	if err := syscall.Unmount(dir, 0); err == nil && !isFUSEMounted(dir) {
		return nil
	}
	err := detachMount(dir)
	if isFUSEMounted(dir) {
		return errors.Join(fmt.Errorf("%s is still mounted", dir), err)
	}
	return nil
}

// dropCaches writes back dirty data and drops the kernel's page, dentry
// and inode caches (needs root). It reports whether the drop happened.
func dropCaches() error {
	syscall.Sync()
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0); err != nil {
		return fmt.Errorf("drop page cache: %w", err)
	}
	return nil
}
