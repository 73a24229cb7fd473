package fs

import (
	"context"
	"encoding/binary"
	"fmt"
	"syscall"

	"github.com/cairn-storage/cairn/fs/meta"
)

// DirEntry is one entry of a directory listing.
type DirEntry struct {
	Name string
	Ino  Ino
	// Mode holds only the file type bits (syscall.S_IFMT).
	Mode uint32
	// Cookie is the entry's position: pass it to ReadDir to resume after it.
	Cookie uint64
}

// maxLinks bounds a file's hard-link count, as ext4 does.
const maxLinks = 65000

// maxSymlink is the longest symlink target accepted (PATH_MAX).
const maxSymlink = 4096

// GetAttr returns the attributes of ino, including writes still buffered.
func (v *Volume) GetAttr(ctx context.Context, ino Ino) (Attr, error) {
	var a Attr
	err := v.view(ctx, func(r reader) error {
		n, err := r.get(ino)
		if err != nil {
			return err
		}
		a = n.attr()
		return nil
	})
	if err != nil {
		return Attr{}, err
	}
	v.overlay(&a)
	return a, nil
}

// Parent returns the parent of directory dir (the root is its own parent).
func (v *Volume) Parent(ctx context.Context, dir Ino) (Ino, error) {
	var p Ino
	err := v.view(ctx, func(r reader) error {
		n, err := r.dir(dir)
		if err == nil {
			p = n.Parent
		}
		return err
	})
	return p, err
}

// Lookup finds name in directory dir.
func (v *Volume) Lookup(ctx context.Context, c *Caller, dir Ino, name string) (Attr, error) {
	if err := checkName(name); err != nil {
		return Attr{}, err
	}
	if err := v.materializeFor(ctx, dir); err != nil {
		return Attr{}, err
	}
	var a Attr
	err := v.view(ctx, func(r reader) error {
		d, err := r.dir(dir)
		if err != nil {
			return err
		}
		if err := c.may(&d.Attr, MayExec); err != nil {
			return err
		}
		ino, err := r.lookup(dir, name)
		if err != nil {
			return err
		}
		n, err := r.get(ino)
		if err != nil {
			return fmt.Errorf("entry %q of directory %d names missing inode %d: %w", name, dir, ino, syscall.EIO)
		}
		a = n.attr()
		return nil
	})
	if err != nil {
		return Attr{}, err
	}
	v.overlay(&a)
	return a, nil
}

// newInode creates an inode of the given mode and links it as dir/name.
func (v *Volume) newInode(ctx context.Context, c *Caller, dir Ino, name string, mode, rdev uint32, target string) (Attr, error) {
	if err := checkName(name); err != nil {
		return Attr{}, err
	}
	if err := v.writable(); err != nil {
		return Attr{}, err
	}
	defer v.hold()()
	ino, err := v.allocIno(ctx)
	if err != nil {
		return Attr{}, err
	}
	var out Attr
	err = v.update(ctx, func(t *txn) error {
		d, err := t.dir(dir)
		if err != nil {
			return err
		}
		if d.Nlink == 0 {
			return syscall.ENOENT // removed while in use
		}
		if err := c.may(&d.Attr, MayWrite|MayExec); err != nil {
			return err
		}
		if _, err := t.lookup(dir, name); err == nil {
			return syscall.EEXIST
		} else if err != syscall.ENOENT {
			return err
		}
		n := &inode{Attr: Attr{Ino: ino, Gen: 1, Mode: mode, Nlink: 1, Rdev: rdev,
			Atime: t.now, Mtime: t.now, Ctime: t.now, Btime: t.now}, Parent: dir, Target: target}
		v.initOwner(c, d, n)
		if n.IsDir() {
			n.Nlink = 2
			d.Nlink++
		}
		if n.IsSymlink() {
			n.Size = uint64(len(target))
		}
		t.touch(d)
		if err := t.addUsage(0, 1); err != nil {
			return err
		}
		if err := t.put(n); err != nil {
			return err
		}
		if err := t.put(d); err != nil {
			return err
		}
		out = n.attr()
		return t.setDirent(dir, name, n)
	})
	return out, err
}

// initOwner sets a new inode's owner and group, with the BSD group
// semantics of set-group-ID directories.
func (v *Volume) initOwner(c *Caller, d, n *inode) {
	if c != nil {
		n.Uid, n.Gid = c.Uid, c.Gid
	}
	if d.Mode&syscall.S_ISGID != 0 {
		n.Gid = d.Gid
		if n.IsDir() {
			n.Mode |= syscall.S_ISGID
		}
	}
	// As Linux's mode_strip_sgid: only a group-executable file loses it.
	const sgidExec = syscall.S_ISGID | syscall.S_IXGRP
	if !n.IsDir() && n.Mode&sgidExec == sgidExec && !c.isRoot() && !c.inGroup(n.Gid) {
		n.Mode &^= syscall.S_ISGID
	}
}

// Mknod creates a regular file, FIFO, socket or (for root) device node.
func (v *Volume) Mknod(ctx context.Context, c *Caller, dir Ino, name string, mode, rdev uint32) (Attr, error) {
	switch mode & syscall.S_IFMT {
	case 0:
		mode |= syscall.S_IFREG
	case syscall.S_IFREG, syscall.S_IFIFO, syscall.S_IFSOCK:
	case syscall.S_IFCHR, syscall.S_IFBLK:
		if !c.isRoot() {
			return Attr{}, fmt.Errorf("mknod device: %w", syscall.EPERM)
		}
	default:
		return Attr{}, fmt.Errorf("mknod mode %#o: %w", mode, syscall.EINVAL)
	}
	return v.newInode(ctx, c, dir, name, mode&(syscall.S_IFMT|0o7777), rdev, "")
}

// Mkdir creates a directory.
func (v *Volume) Mkdir(ctx context.Context, c *Caller, dir Ino, name string, mode uint32) (Attr, error) {
	return v.newInode(ctx, c, dir, name, syscall.S_IFDIR|mode&0o7777, 0, "")
}

// Symlink creates a symbolic link to target.
func (v *Volume) Symlink(ctx context.Context, c *Caller, dir Ino, name, target string) (Attr, error) {
	switch {
	case target == "":
		return Attr{}, fmt.Errorf("empty symlink target: %w", syscall.ENOENT)
	case len(target) > maxSymlink:
		return Attr{}, fmt.Errorf("symlink target of %d bytes: %w", len(target), syscall.ENAMETOOLONG)
	}
	return v.newInode(ctx, c, dir, name, syscall.S_IFLNK|0o777, 0, target)
}

// Readlink returns a symlink's target.
func (v *Volume) Readlink(ctx context.Context, ino Ino) (string, error) {
	var target string
	err := v.view(ctx, func(r reader) error {
		n, err := r.get(ino)
		if err != nil {
			return err
		}
		if !n.IsSymlink() {
			return syscall.EINVAL
		}
		target = n.Target
		return nil
	})
	return target, err
}

// Link adds the name dir/name for the existing non-directory ino.
func (v *Volume) Link(ctx context.Context, c *Caller, ino, dir Ino, name string) (Attr, error) {
	if err := checkName(name); err != nil {
		return Attr{}, err
	}
	if err := v.writable(); err != nil {
		return Attr{}, err
	}
	defer v.hold()()
	var out Attr
	err := v.update(ctx, func(t *txn) error {
		n, err := t.get(ino)
		if err != nil {
			return err
		}
		switch {
		case n.IsDir():
			return fmt.Errorf("hard link to a directory: %w", syscall.EPERM)
		case n.Nlink == 0:
			return syscall.ENOENT
		case n.Nlink >= maxLinks:
			return syscall.EMLINK
		}
		d, err := t.dir(dir)
		if err != nil {
			return err
		}
		if err := c.may(&d.Attr, MayWrite|MayExec); err != nil {
			return err
		}
		if _, err := t.lookup(dir, name); err == nil {
			return syscall.EEXIST
		} else if err != syscall.ENOENT {
			return err
		}
		oldParent := n.Parent
		n.Nlink++
		n.Ctime = t.now
		n.Parent = dir
		t.touch(d)
		if err := t.putAll(n, d); err != nil {
			return err
		}
		out = n.attr()
		if err := t.setDirent(dir, name, n); err != nil {
			return err
		}
		if err := t.markLinks(oldParent); err != nil {
			return err
		}
		return t.markLinks(dir)
	})
	if err != nil {
		return Attr{}, err
	}
	v.overlay(&out)
	return out, nil
}

// Unlink removes the name dir/name of a non-directory. The inode's data
// goes when its last name and last open handle are gone.
func (v *Volume) Unlink(ctx context.Context, c *Caller, dir Ino, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := v.writable(); err != nil {
		return err
	}
	defer v.hold()()
	var gone Ino
	err := v.update(ctx, func(t *txn) error {
		gone = 0
		d, err := t.dir(dir)
		if err != nil {
			return err
		}
		ino, err := t.lookup(dir, name)
		if err != nil {
			return err
		}
		n, err := t.get(ino)
		if err != nil {
			return err
		}
		if n.IsDir() {
			return syscall.EISDIR
		}
		if err := c.mayDelete(&d.Attr, &n.Attr); err != nil {
			return err
		}
		if err := t.tx.Delete(t.ks.dirent(dir, name)); err != nil {
			return err
		}
		t.touch(d)
		if err := t.put(d); err != nil {
			return err
		}
		return t.dropLink(n, &gone)
	})
	if err != nil {
		return err
	}
	return v.maybePurge(ctx, gone)
}

// dropLink decrements n's link count. At zero the inode becomes an
// orphan, reclaimed by maybePurge (or after a crash, at the next open).
func (t *txn) dropLink(n *inode, gone *Ino) error {
	n.Nlink--
	n.Ctime = t.now
	if n.Nlink == 0 {
		*gone = n.Ino
		if err := t.tx.Set(t.ks.orphan(n.Ino), nil); err != nil {
			return err
		}
	}
	return t.put(n)
}

// Rmdir removes the empty directory dir/name.
func (v *Volume) Rmdir(ctx context.Context, c *Caller, dir Ino, name string) error {
	if name == "." {
		return fmt.Errorf("rmdir \".\": %w", syscall.EINVAL)
	}
	if name == ".." {
		return fmt.Errorf("rmdir \"..\": %w", syscall.ENOTEMPTY)
	}
	if err := checkName(name); err != nil {
		return err
	}
	if err := v.writable(); err != nil {
		return err
	}
	defer v.hold()()
	return v.update(ctx, func(t *txn) error {
		d, err := t.dir(dir)
		if err != nil {
			return err
		}
		ino, err := t.lookup(dir, name)
		if err != nil {
			return err
		}
		n, err := t.dir(ino)
		if err != nil {
			return err
		}
		if err := c.mayDelete(&d.Attr, &n.Attr); err != nil {
			return err
		}
		if err := t.removeDir(d, name, n); err != nil {
			return err
		}
		return t.put(d)
	})
}

// removeDir deletes the empty directory n, named name in d.
func (t *txn) removeDir(d *inode, name string, n *inode) error {
	if err := t.materialize(n); err != nil {
		return err
	}
	empty, err := t.isEmpty(n.Ino)
	if err != nil {
		return err
	}
	if !empty {
		return syscall.ENOTEMPTY
	}
	if err := t.tx.Delete(t.ks.dirent(d.Ino, name)); err != nil {
		return err
	}
	if err := t.deleteInode(n.Ino); err != nil {
		return err
	}
	d.Nlink--
	t.touch(d)
	return t.addUsage(0, -1)
}

// deleteInode removes the records of an inode that has no data extents.
func (t *txn) deleteInode(ino Ino) error {
	var keys [][]byte
	prefix := t.ks.xattrPrefix(ino)
	err := t.tx.Scan(prefix, scanEnd(prefix), func(k, _ []byte) error {
		keys = append(keys, append([]byte(nil), k...))
		return nil
	})
	if err != nil {
		return err
	}
	keys = append(keys, t.ks.inode(ino), t.ks.orphan(ino))
	for _, k := range keys {
		if err := t.tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// ReadDir calls fn for the entries of dir after position cookie (0 for
// the start), in cookie order, until fn returns false.
func (v *Volume) ReadDir(ctx context.Context, c *Caller, dir Ino, cookie uint64, fn func(DirEntry) bool) error {
	return v.ReadDirPlus(ctx, c, dir, cookie, func(e DirEntry, _ *Attr) bool { return fn(e) }, false)
}

// readDirPage bounds the entries read from one consistent view.
const readDirPage = 512

// ReadDirPlus is ReadDir that also gives each entry's attributes when
// withAttr is set (nil otherwise).
func (v *Volume) ReadDirPlus(ctx context.Context, c *Caller, dir Ino, cookie uint64, fn func(DirEntry, *Attr) bool, withAttr bool) error {
	if err := v.materializeFor(ctx, dir); err != nil {
		return err
	}
	for {
		var page []DirEntry
		var attrs []Attr
		err := v.view(ctx, func(r reader) error {
			page, attrs = page[:0], attrs[:0]
			d, err := r.dir(dir)
			if err != nil {
				return err
			}
			if err := c.may(&d.Attr, MayRead); err != nil {
				return err
			}
			if page, err = r.entries(dir, cookie, readDirPage); err != nil || !withAttr {
				return err
			}
			for _, e := range page {
				n, err := r.get(e.Ino)
				if err != nil {
					return fmt.Errorf("entry %q of directory %d: %w", e.Name, dir, err)
				}
				attrs = append(attrs, n.attr())
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i, e := range page {
			var a *Attr
			if withAttr {
				a = &attrs[i]
				v.overlay(a)
			}
			if !fn(e, a) {
				return nil
			}
			cookie = e.Cookie
		}
		if len(page) < readDirPage {
			return nil
		}
	}
}

// entries returns up to limit entries of dir after position cookie.
func (r reader) entries(dir Ino, cookie uint64, limit int) ([]DirEntry, error) {
	prefix := r.ks.direntPrefix(dir)
	start := r.ks.direntFrom(dir, max(cookie+1, firstCookie))
	var out []DirEntry
	err := r.r.Scan(start, scanEnd(prefix), func(k, val []byte) error {
		rest := k[len(prefix):]
		if len(rest) < 9 || len(val) < 12 {
			return fmt.Errorf("bad entry in directory %d: %w", dir, syscall.EIO)
		}
		out = append(out, DirEntry{
			Name:   string(rest[8:]),
			Cookie: binary.BigEndian.Uint64(rest),
			Ino:    Ino(binary.BigEndian.Uint64(val)),
			Mode:   binary.BigEndian.Uint32(val[8:]),
		})
		if len(out) == limit {
			return meta.ErrStop
		}
		return nil
	})
	return out, err
}
