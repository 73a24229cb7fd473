package fs

import (
	"fmt"
	"syscall"
)

// Caller identifies who asks for an operation, for permission checks.
// A nil *Caller is the filesystem itself and may do anything.
type Caller struct {
	Uid    uint32
	Gid    uint32
	Groups []uint32 // supplementary groups
}

// Access mask bits, as in access(2).
const (
	MayExec  = 1
	MayWrite = 2
	MayRead  = 4
)

func (c *Caller) isRoot() bool { return c == nil || c.Uid == 0 }

func (c *Caller) inGroup(gid uint32) bool {
	if c == nil || c.Gid == gid {
		return true
	}
	for _, g := range c.Groups {
		if g == gid {
			return true
		}
	}
	return false
}

// owns reports whether c may act as the owner of n (chmod, utimes, ...).
func (c *Caller) owns(a *Attr) bool { return c.isRoot() || c.Uid == a.Uid }

// may checks the permission bits of a for mask (MayRead|MayWrite|MayExec).
func (c *Caller) may(a *Attr, mask uint32) error {
	if c.isRoot() {
		// Root passes every check except executing a file no one may execute.
		if mask&MayExec != 0 && !a.IsDir() && a.Mode&0o111 == 0 {
			return syscall.EACCES
		}
		return nil
	}
	var bits uint32
	switch {
	case c.Uid == a.Uid:
		bits = a.Mode >> 6
	case c.inGroup(a.Gid):
		bits = a.Mode >> 3
	default:
		bits = a.Mode
	}
	if bits&mask&7 != mask&7 {
		return syscall.EACCES
	}
	return nil
}

// mayDelete checks that c may remove or replace the entry for victim in
// dir: write and search permission on dir, and the sticky-bit rule.
func (c *Caller) mayDelete(dir, victim *Attr) error {
	if err := c.may(dir, MayWrite|MayExec); err != nil {
		return err
	}
	if dir.Mode&syscall.S_ISVTX != 0 && !c.isRoot() && c.Uid != dir.Uid && c.Uid != victim.Uid {
		return fmt.Errorf("sticky directory: %w", syscall.EPERM)
	}
	return nil
}

// killPriv clears set-user-ID, and set-group-ID when group execution is
// allowed or c is not in the file's group, as Linux does when a file is
// written or truncated by someone without CAP_FSETID, and on every chown
// (setattr_should_drop_sgid). It reports whether mode changed.
func killPriv(c *Caller, a *Attr) bool {
	if a.IsDir() {
		return false
	}
	m := a.Mode &^ syscall.S_ISUID
	if m&syscall.S_ISGID != 0 && (m&syscall.S_IXGRP != 0 || !c.inGroup(a.Gid) && !c.isRoot()) {
		m &^= syscall.S_ISGID
	}
	changed := m != a.Mode
	a.Mode = m
	return changed
}
