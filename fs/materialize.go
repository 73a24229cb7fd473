package fs

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs/tree"
)

func toTreeTime(t time.Time) tree.Time { return tree.Time{Sec: t.Unix(), Nsec: uint32(t.Nanosecond())} }

func fromTreeTime(t tree.Time) time.Time { return time.Unix(t.Sec, int64(t.Nsec)) }

// treeAttr converts an inode's attributes for a tree entry.
func treeAttr(n *inode) tree.Attr {
	return tree.Attr{Ino: uint64(n.Ino), Mode: n.Mode, Nlink: n.Nlink, Uid: n.Uid, Gid: n.Gid,
		Rdev: n.Rdev, Size: n.Size, Alloc: n.Alloc, Atime: toTreeTime(n.Atime),
		Mtime: toTreeTime(n.Mtime), Ctime: toTreeTime(n.Ctime), Btime: toTreeTime(n.Btime)}
}

// inodeFromTree builds the record of an inode still described by node.
func inodeFromTree(a tree.Attr, target string, node chunks.ID, parent Ino) *inode {
	return &inode{Attr: Attr{Ino: Ino(a.Ino), Gen: 1, Mode: a.Mode, Nlink: a.Nlink, Uid: a.Uid,
		Gid: a.Gid, Rdev: a.Rdev, Size: a.Size, Atime: fromTreeTime(a.Atime),
		Mtime: fromTreeTime(a.Mtime), Ctime: fromTreeTime(a.Ctime), Btime: fromTreeTime(a.Btime)},
		Alloc: a.Alloc, Parent: parent, Target: target, Lazy: node, Cached: node}
}

// loadNode reads and decodes a tree node.
func (f *FS) loadNode(ctx context.Context, id chunks.ID) (*tree.Node, error) {
	b, err := f.store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("tree node %s: %w: %w", id, syscall.EIO, err)
	}
	n, err := tree.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("tree node %s: %w: %w", id, syscall.EIO, err)
	}
	return n, nil
}

// materialize copies the content of a lazy inode (a clone's directory or
// file still described by a tree node) into the KV. It changes no
// content, so caches stay valid.
func (t *txn) materialize(n *inode) error {
	if n.Lazy.IsZero() {
		return nil
	}
	node, err := t.v.fs.loadNode(t.ctx, n.Lazy)
	if err != nil {
		return err
	}
	if (node.Kind == tree.KindDir) != n.IsDir() {
		return fmt.Errorf("inode %d: tree node %s has the wrong kind: %w", n.Ino, n.Lazy, syscall.EIO)
	}
	for _, x := range node.Xattrs {
		if err := t.tx.Set(t.ks.xattr(n.Ino, x.Name), x.Value); err != nil {
			return err
		}
	}
	for _, e := range node.Extents {
		ext := extent{Off: e.Off, Len: e.Len, Chunk: e.Chunk, ChunkOff: e.ChunkOff}
		if err := t.tx.Set(t.ks.extent(n.Ino, ext.end()), ext.encode()); err != nil {
			return err
		}
	}
	for _, e := range node.Entries {
		if e.Attr.Mode&syscall.S_IFMT == syscall.S_IFREG && e.Attr.Nlink > 1 && !n.LinksBelow {
			// A file with several names: see inode.LinksBelow.
			n.LinksBelow = true
			if n.Ino != RootIno {
				if err := t.markLinks(n.Parent); err != nil {
					return err
				}
			}
		}
		child := inodeFromTree(e.Attr, e.Target, e.Node, n.Ino)
		if _, err := t.get(child.Ino); err == syscall.ENOENT {
			if err := t.putRaw(child); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if err := t.setDirent(n.Ino, e.Name, child); err != nil {
			return err
		}
	}
	n.Lazy = zeroID
	return t.putRaw(n)
}

// dir loads ino, checks that it is a directory and copies its entries
// into the KV if they are still in a tree node.
func (t *txn) dir(ino Ino) (*inode, error) {
	n, err := t.reader.dir(ino)
	if err != nil {
		return nil, err
	}
	return n, t.materialize(n)
}

// materialized loads ino with its content in the KV.
func (t *txn) materialized(ino Ino) (*inode, error) {
	n, err := t.get(ino)
	if err != nil {
		return nil, err
	}
	return n, t.materialize(n)
}

// ensureMaterialized copies ino's content into the KV if a tree node still
// holds it, for read paths that work on a read-only view. The caller
// holds the write gate.
func (v *Volume) ensureMaterialized(ctx context.Context, ino Ino) error {
	return v.update(ctx, func(t *txn) error {
		_, err := t.materialized(ino)
		return err
	})
}

// lazyIn reports whether inode ino's content is still in a tree node.
func (v *Volume) lazyIn(ctx context.Context, ino Ino) (bool, error) {
	var lazy bool
	err := v.view(ctx, func(r reader) error {
		n, err := r.get(ino)
		if err == nil {
			lazy = !n.Lazy.IsZero()
		}
		return err
	})
	return lazy, err
}

// materializeFor makes sure read paths find ino's content in the KV.
func (v *Volume) materializeFor(ctx context.Context, ino Ino) error {
	lazy, err := v.lazyIn(ctx, ino)
	if err != nil || !lazy {
		return err
	}
	defer v.hold()()
	return v.ensureMaterialized(ctx, ino)
}
