package fs

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// SetAttrIn says which attributes SetAttr changes.
type SetAttrIn struct {
	Mode  *uint32 // permission bits (the file type is kept)
	Uid   *uint32
	Gid   *uint32
	Size  *uint64
	Atime *time.Time // nil: unchanged
	Mtime *time.Time
	// AtimeNow and MtimeNow set the time to now (UTIME_NOW): allowed to
	// anyone who may write the file, not just its owner.
	AtimeNow bool
	MtimeNow bool
	// ByHandle is set when the change comes through an open file (ftruncate),
	// whose opening already checked write permission.
	ByHandle bool
}

// SetAttr changes attributes of ino with the permission rules of Linux.
func (v *Volume) SetAttr(ctx context.Context, c *Caller, ino Ino, in SetAttrIn) (Attr, error) {
	if err := v.writable(); err != nil {
		return Attr{}, err
	}
	defer v.hold()()
	if in.Size != nil {
		if err := v.setSize(ctx, c, ino, *in.Size, in.ByHandle); err != nil {
			return Attr{}, err
		}
	}
	var out Attr
	err := v.update(ctx, func(t *txn) error {
		n, err := t.get(ino)
		if err != nil {
			return err
		}
		changed, err := applyAttr(c, n, in, t.now)
		if err != nil {
			return err
		}
		if changed {
			n.Ctime = t.now
			if err := t.put(n); err != nil {
				return err
			}
		}
		out = n.attr()
		return nil
	})
	if err != nil {
		return Attr{}, err
	}
	v.afterSetAttr(&out, in)
	return out, nil
}

// afterSetAttr keeps an open file's state in step with a SetAttr.
func (v *Volume) afterSetAttr(a *Attr, in SetAttrIn) {
	v.mu.Lock()
	f := v.files[a.Ino]
	v.mu.Unlock()
	if f == nil {
		return
	}
	f.mu.Lock()
	f.mode = a.Mode
	if in.Mtime != nil || in.MtimeNow {
		f.timesDirty = false // an explicit time wins over earlier writes
	}
	f.mu.Unlock()
	v.overlay(a)
}

// applyAttr changes n as in asks, after checking c's rights.
func applyAttr(c *Caller, n *inode, in SetAttrIn, now time.Time) (bool, error) {
	changed := false
	if in.Mode != nil {
		if !c.owns(&n.Attr) {
			return false, fmt.Errorf("chmod inode %d: %w", n.Ino, syscall.EPERM)
		}
		m := *in.Mode & 0o7777
		if !c.isRoot() && !c.inGroup(n.Gid) {
			m &^= syscall.S_ISGID
		}
		n.Mode = n.Mode&syscall.S_IFMT | m
		changed = true
	}
	if in.Uid != nil || in.Gid != nil {
		if err := chown(c, n, in.Uid, in.Gid); err != nil {
			return false, err
		}
		changed = true
	}
	for _, tm := range []struct {
		set  *time.Time
		now  bool
		dest *time.Time
	}{{in.Atime, in.AtimeNow, &n.Atime}, {in.Mtime, in.MtimeNow, &n.Mtime}} {
		if tm.set == nil && !tm.now {
			continue
		}
		if !c.owns(&n.Attr) {
			if !tm.now {
				return false, fmt.Errorf("set times of inode %d: %w", n.Ino, syscall.EPERM)
			}
			if err := c.may(&n.Attr, MayWrite); err != nil {
				return false, err
			}
		}
		if tm.now {
			*tm.dest = now
		} else {
			*tm.dest = *tm.set
		}
		changed = true
	}
	return changed, nil
}

// chown applies an ownership change: only root gives a file away; an
// owner may change its group to one of their own groups. The change
// clears set-user-ID and set-group-ID (when group-executable).
func chown(c *Caller, n *inode, uid, gid *uint32) error {
	if !c.isRoot() {
		if uid != nil && *uid != n.Uid {
			return fmt.Errorf("chown inode %d: %w", n.Ino, syscall.EPERM)
		}
		if gid != nil && (c.Uid != n.Uid || !c.inGroup(*gid)) {
			return fmt.Errorf("chgrp inode %d: %w", n.Ino, syscall.EPERM)
		}
	}
	killPriv(c, &n.Attr) // decided on the group before the change, as Linux
	if uid != nil {
		n.Uid = *uid
	}
	if gid != nil {
		n.Gid = *gid
	}
	return nil
}

// setSize truncates or extends a regular file.
func (v *Volume) setSize(ctx context.Context, c *Caller, ino Ino, size uint64, byHandle bool) error {
	a, err := v.GetAttr(ctx, ino)
	if err != nil {
		return err
	}
	switch {
	case a.IsDir():
		return syscall.EISDIR
	case !a.IsRegular():
		return syscall.EINVAL
	}
	if !byHandle {
		if err := c.may(&a, MayWrite); err != nil {
			return err
		}
	}
	f, err := v.acquire(ctx, ino)
	if err != nil {
		return err
	}
	f.mu.Lock()
	err = f.truncate(ctx, c, size)
	f.mu.Unlock()
	if rerr := v.release(ctx, f); err == nil {
		err = rerr
	}
	return err
}
