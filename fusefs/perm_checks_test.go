//go:build linux

package fusefs

import (
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// permCheck is one operation the non-root child tries.
type permCheck struct {
	name string
	run  func(mnt string) error
}

func create(p string, mode uint32) error {
	fd, err := syscall.Open(p, syscall.O_CREAT|syscall.O_EXCL|syscall.O_WRONLY, mode)
	if err == nil {
		err = syscall.Close(fd)
	}
	return err
}

func writeTo(p string) error {
	fd, err := syscall.Open(p, syscall.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	_, err = syscall.Write(fd, []byte("x"))
	return err
}

func chmodThen(p string, mode uint32) error {
	if err := create(p, 0o644); err != nil {
		return err
	}
	return syscall.Chmod(p, mode)
}

// in makes a check's paths relative to the mount.
func in(fn func(j func(string) string) error) func(string) error {
	return func(mnt string) error {
		return fn(func(p string) string { return filepath.Join(mnt, p) })
	}
}

var permChecks = []permCheck{
	{"read-0600-root-file", in(func(j func(string) string) error { _, err := os.ReadFile(j("secret")); return err })},
	{"unlink-sticky-others", in(func(j func(string) string) error { return syscall.Unlink(j("sticky/other")) })},
	{"rename-sticky-others", in(func(j func(string) string) error {
		return syscall.Rename(j("sticky/other"), j("sticky/renamed"))
	})},
	{"remove-dir-sticky-others", in(func(j func(string) string) error { return syscall.Rmdir(j("sticky/otherdir")) })},
	{"create-sticky-own", in(func(j func(string) string) error { return create(j("sticky/mine"), 0o644) })},
	{"unlink-sticky-own", in(func(j func(string) string) error { return syscall.Unlink(j("sticky/mine")) })},
	{"create-in-setgid-dir", in(func(j func(string) string) error { return create(j("setgid/file"), 0o644) })},
	{"mkdir-in-setgid-dir", in(func(j func(string) string) error { return syscall.Mkdir(j("setgid/sub"), 0o755) })},
	{"write-suid-file", in(func(j func(string) string) error { return writeTo(j("suid")) })},
	{"truncate-suid-file", in(func(j func(string) string) error { return syscall.Truncate(j("suid2"), 1) })},
	{"write-suid-noexec-setgid", in(func(j func(string) string) error { return writeTo(j("sgid-noexec")) })},
	{"write-noexec-setgid-member", in(func(j func(string) string) error { return writeTo(j("sgid-noexec-member")) })},
	{"chmod-not-owner", in(func(j func(string) string) error { return syscall.Chmod(j("owned"), 0o777) })},
	{"chown-to-other-user", in(func(j func(string) string) error { return syscall.Chown(j("readonly"), strangerID, -1) })},
	{"read-via-extra-group", in(func(j func(string) string) error { _, err := os.ReadFile(j("group")); return err })},
	{"chgrp-to-extra-group", in(func(j func(string) string) error {
		if err := create(j("public/mine"), 0o644); err != nil {
			return err
		}
		return syscall.Chown(j("public/mine"), -1, extraGID)
	})},
	{"chmod-setgid-extra-group", in(func(j func(string) string) error { return syscall.Chmod(j("public/mine"), 0o2644) })},
	{"create-setgid-not-member", in(func(j func(string) string) error { return chmodThen(j("sg2000/f"), 0o2644) })},
	{"create-sgid-noexec-foreign-dir", in(func(j func(string) string) error { return create(j("sg2000/g"), 0o2644) })},
	{"create-sgid-exec-foreign-dir", in(func(j func(string) string) error { return create(j("sg2000/x"), 0o2755) })},
	{"chgrp-own-suid-file", in(func(j func(string) string) error {
		if err := chmodThen(j("public/suid"), 0o6755); err != nil {
			return err
		}
		return syscall.Chown(j("public/suid"), -1, extraGID)
	})},
	{"rename-over-sticky-others", in(func(j func(string) string) error {
		if err := create(j("sticky/mine2"), 0o644); err != nil {
			return err
		}
		return syscall.Rename(j("sticky/mine2"), j("sticky/other"))
	})},
	{"truncate-unwritable", in(func(j func(string) string) error { return syscall.Truncate(j("secret"), 0) })},
	{"link-to-others-file", in(func(j func(string) string) error { return syscall.Link(j("secret"), j("public/l")) })},
	{"utimes-now-not-owner", in(func(j func(string) string) error { return unix.UtimesNano(j("owned"), nil) })},
	{"utimes-set-not-owner", in(func(j func(string) string) error {
		ts := []unix.Timespec{unix.NsecToTimespec(1e9), unix.NsecToTimespec(time.Now().UnixNano())}
		return unix.UtimesNano(j("owned"), ts)
	})},
	{"setxattr-no-write-perm", in(func(j func(string) string) error { return unix.Setxattr(j("closed"), "user.x", []byte("v"), 0) })},
	{"create-in-unwritable-dir", in(func(j func(string) string) error { return create(j("closed/x"), 0o644) })},
	{"list-unreadable-dir", in(func(j func(string) string) error { _, err := os.ReadDir(j("hidden")); return err })},
	{"mknod-char-device", in(func(j func(string) string) error {
		return syscall.Mknod(j("public/dev"), syscall.S_IFCHR|0o644, int(unix.Mkdev(1, 3)))
	})},
	{"open-trunc-readonly-file", in(func(j func(string) string) error {
		fd, err := syscall.Open(j("readonly"), syscall.O_WRONLY|syscall.O_TRUNC, 0)
		if err == nil {
			syscall.Close(fd)
		}
		return err
	})},
	{"link-in-unwritable-dir", in(func(j func(string) string) error { return syscall.Link(j("public/mine"), j("closed/link")) })},
	{"rename-dir-no-write-child", in(func(j func(string) string) error {
		return syscall.Rename(j("public/locked"), j("public/target/locked"))
	})},
	// Runs last: it changes a fixture other checks use.
	{"chmod-own-readonly-file", in(func(j func(string) string) error { return syscall.Chmod(j("readonly"), 0o640) })},
}

// permWant is the errno each check must give.
var permWant = map[string]syscall.Errno{
	"read-0600-root-file":            syscall.EACCES,
	"unlink-sticky-others":           syscall.EPERM,
	"rename-sticky-others":           syscall.EPERM,
	"remove-dir-sticky-others":       syscall.EPERM,
	"create-sticky-own":              0,
	"unlink-sticky-own":              0,
	"create-in-setgid-dir":           0,
	"mkdir-in-setgid-dir":            0,
	"write-suid-file":                0,
	"truncate-suid-file":             0,
	"write-suid-noexec-setgid":       0,
	"write-noexec-setgid-member":     0,
	"chgrp-own-suid-file":            0,
	"rename-over-sticky-others":      syscall.EPERM,
	"truncate-unwritable":            syscall.EACCES,
	"chmod-own-readonly-file":        0,
	"link-to-others-file":            syscall.EPERM,
	"chmod-not-owner":                syscall.EPERM,
	"chown-to-other-user":            syscall.EPERM,
	"read-via-extra-group":           0,
	"chgrp-to-extra-group":           0,
	"chmod-setgid-extra-group":       0,
	"create-setgid-not-member":       0,
	"create-sgid-noexec-foreign-dir": 0,
	"create-sgid-exec-foreign-dir":   0,
	"utimes-now-not-owner":           0,
	"utimes-set-not-owner":           syscall.EPERM,
	"setxattr-no-write-perm":         syscall.EACCES,
	"create-in-unwritable-dir":       syscall.EACCES,
	"list-unreadable-dir":            syscall.EACCES,
	"mknod-char-device":              syscall.EPERM,
	"open-trunc-readonly-file":       syscall.EACCES,
	"link-in-unwritable-dir":         syscall.EACCES,
	"rename-dir-no-write-child":      syscall.EACCES,
}
