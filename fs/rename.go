package fs

import (
	"context"
	"fmt"
	"syscall"
)

// Rename flags, as renameat2(2).
const (
	RenameNoReplace = 1 << 0
	RenameExchange  = 1 << 1
)

// Rename moves odir/oname to ndir/nname, replacing a compatible target
// unless RenameNoReplace is set; RenameExchange swaps the two entries.
func (v *Volume) Rename(ctx context.Context, c *Caller, odir Ino, oname string, ndir Ino, nname string, flags uint32) error {
	if flags&^(RenameNoReplace|RenameExchange) != 0 || flags == RenameNoReplace|RenameExchange {
		return fmt.Errorf("rename flags %#x: %w", flags, syscall.EINVAL)
	}
	for _, name := range []string{oname, nname} {
		if err := checkName(name); err != nil {
			return err
		}
	}
	if err := v.writable(); err != nil {
		return err
	}
	defer v.hold()()
	var gone Ino
	err := v.update(ctx, func(t *txn) error {
		gone = 0
		return t.rename(c, odir, oname, ndir, nname, flags, &gone)
	})
	if err != nil {
		return err
	}
	return v.maybePurge(ctx, gone)
}

func (t *txn) rename(c *Caller, odir Ino, oname string, ndir Ino, nname string, flags uint32, gone *Ino) error {
	od, err := t.dir(odir)
	if err != nil {
		return err
	}
	nd := od
	if ndir != odir {
		if nd, err = t.dir(ndir); err != nil {
			return err
		}
	}
	srcIno, err := t.lookup(odir, oname)
	if err != nil {
		return err
	}
	src, err := t.get(srcIno)
	if err != nil {
		return err
	}
	if err := c.mayDelete(&od.Attr, &src.Attr); err != nil {
		return err
	}
	if err := c.may(&nd.Attr, MayWrite|MayExec); err != nil {
		return err
	}
	var dst *inode
	if dstIno, err := t.lookup(ndir, nname); err == nil {
		if dst, err = t.get(dstIno); err != nil {
			return err
		}
	} else if err != syscall.ENOENT {
		return err
	}
	if dst == nil && flags&RenameExchange != 0 {
		return syscall.ENOENT
	}
	if dst != nil && flags&RenameNoReplace != 0 {
		return syscall.EEXIST
	}
	if dst != nil && dst.Ino == src.Ino {
		return nil // two names of one file: POSIX says do nothing
	}
	if err := t.checkMove(c, src, od, nd); err != nil {
		return err
	}
	if dst != nil {
		if err := c.mayDelete(&nd.Attr, &dst.Attr); err != nil {
			return err
		}
		if flags&RenameExchange != 0 {
			if err := t.checkMove(c, dst, nd, od); err != nil {
				return err
			}
			return t.exchange(od, oname, src, nd, nname, dst)
		}
		if err := t.replaceTarget(nd, nname, src, dst, gone); err != nil {
			return err
		}
	}
	if err := t.tx.Delete(t.ks.dirent(odir, oname)); err != nil {
		return err
	}
	if err := t.setDirent(ndir, nname, src); err != nil {
		return err
	}
	t.moved(src, od, nd)
	if err := t.putAll(src, od, nd); err != nil {
		return err
	}
	return t.keepLinksMarked(src, nd)
}

// keepLinksMarked carries LinksBelow to a new parent when the moved inode
// has several names or holds such files.
func (t *txn) keepLinksMarked(n, to *inode) error {
	if n.LinksBelow || (!n.IsDir() && n.Nlink > 1) {
		return t.markLinks(to.Ino)
	}
	return nil
}

// checkMove enforces the rules for moving n from directory from to to:
// a directory can't go below itself, and moving one to a new parent
// needs write permission on it (its ".." changes).
func (t *txn) checkMove(c *Caller, n, from, to *inode) error {
	if !n.IsDir() || from.Ino == to.Ino {
		return nil
	}
	if err := c.may(&n.Attr, MayWrite); err != nil {
		return err
	}
	for ino := to.Ino; ; {
		if ino == n.Ino {
			return fmt.Errorf("move directory %d into its own subtree: %w", n.Ino, syscall.EINVAL)
		}
		if ino == RootIno {
			return nil
		}
		p, err := t.get(ino)
		if err != nil {
			return err
		}
		if p.Parent == ino {
			return nil
		}
		ino = p.Parent
	}
}

// replaceTarget removes dst, which the rename overwrites.
func (t *txn) replaceTarget(nd *inode, nname string, src, dst *inode, gone *Ino) error {
	switch {
	case src.IsDir() && !dst.IsDir():
		return syscall.ENOTDIR
	case !src.IsDir() && dst.IsDir():
		return syscall.EISDIR
	case dst.IsDir():
		return t.removeDir(nd, nname, dst)
	}
	return t.dropLink(dst, gone)
}

// exchange swaps two entries (RENAME_EXCHANGE).
func (t *txn) exchange(od *inode, oname string, src *inode, nd *inode, nname string, dst *inode) error {
	if err := t.setDirent(od.Ino, oname, dst); err != nil {
		return err
	}
	if err := t.setDirent(nd.Ino, nname, src); err != nil {
		return err
	}
	t.moved(src, od, nd)
	t.moved(dst, nd, od)
	if err := t.putAll(dst, src, od, nd); err != nil {
		return err
	}
	if err := t.keepLinksMarked(src, nd); err != nil {
		return err
	}
	return t.keepLinksMarked(dst, od)
}

// moved updates times, parent and link counts after n moved from -> to.
func (t *txn) moved(n, from, to *inode) {
	n.Ctime = t.now
	t.touch(from)
	t.touch(to)
	if from.Ino == to.Ino {
		return
	}
	n.Parent = to.Ino
	if n.IsDir() {
		from.Nlink--
		to.Nlink++
	}
}

func (t *txn) putAll(ns ...*inode) error {
	for _, n := range ns {
		if err := t.put(n); err != nil {
			return err
		}
	}
	return nil
}
