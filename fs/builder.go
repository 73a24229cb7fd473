package fs

import (
	"context"
	"encoding/binary"
	"fmt"
	"syscall"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs/tree"
)

// errNoInode is the error for an inode that is not there.
var errNoInode = syscall.ENOENT

// builder writes the tree of one volume from a consistent view.
type builder struct {
	ctx   context.Context
	fs    *FS
	r     reader
	cache []cacheEntry
	links bool // a file with several names was seen
}

// cut builds the whole tree of v.
func (b *builder) cut(v *Volume) (TreeCut, error) {
	root, err := b.r.get(RootIno)
	if err != nil {
		return TreeCut{}, err
	}
	id, err := b.node(root)
	if err != nil {
		return TreeCut{}, err
	}
	u, err := getUsage(b.r.r, b.r.ks)
	if err != nil {
		return TreeCut{}, err
	}
	maxIno, err := b.r.maxIno()
	if err != nil {
		return TreeCut{}, err
	}
	return TreeCut{
		Volume: v.Info(),
		Root: tree.Root{Attr: treeAttr(root), Node: id, Bytes: u.Bytes, Inodes: u.Inodes,
			Links: b.links || root.LinksBelow},
		MaxIno: maxIno,
		Usage:  u,
	}, nil
}

// node returns the tree node of n, building it unless a valid one is known.
func (b *builder) node(n *inode) (chunks.ID, error) {
	if !n.Lazy.IsZero() {
		return n.Lazy, nil
	}
	if !n.Cached.IsZero() && !n.LinksBelow {
		return n.Cached, nil
	}
	node := &tree.Node{Kind: tree.KindFile}
	var err error
	if node.Xattrs, err = b.xattrs(n.Ino); err != nil {
		return zeroID, err
	}
	if n.IsDir() {
		node.Kind = tree.KindDir
		if node.Entries, err = b.entries(n.Ino); err != nil {
			return zeroID, err
		}
	} else if node.Extents, err = b.extents(n.Ino); err != nil {
		return zeroID, err
	}
	enc, err := tree.Encode(node)
	if err != nil {
		return zeroID, fmt.Errorf("inode %d: %w", n.Ino, err)
	}
	id := tree.ID(enc)
	if err := b.fs.store.Put(b.ctx, id, enc, chunks.PutOptions{Compress: true, Trusted: true}); err != nil {
		return zeroID, fmt.Errorf("store tree node of inode %d: %w", n.Ino, err)
	}
	if !n.LinksBelow {
		b.cache = append(b.cache, cacheEntry{ino: n.Ino, id: id})
	}
	return id, nil
}

func (b *builder) entries(dir Ino) ([]tree.Entry, error) {
	var out []tree.Entry
	for cookie := uint64(0); ; {
		page, err := b.r.entries(dir, cookie, readDirPage)
		if err != nil {
			return nil, err
		}
		for _, de := range page {
			child, err := b.r.get(de.Ino)
			if err != nil {
				return nil, fmt.Errorf("entry %q of directory %d: %w", de.Name, dir, err)
			}
			e := tree.Entry{Name: de.Name, Attr: treeAttr(child), Target: child.Target}
			if child.IsRegular() && child.Nlink > 1 {
				b.links = true
			}
			if child.IsDir() || child.IsRegular() {
				if e.Node, err = b.node(child); err != nil {
					return nil, err
				}
			}
			out = append(out, e)
			cookie = de.Cookie
		}
		if len(page) < readDirPage {
			return out, nil
		}
	}
}

func (b *builder) xattrs(ino Ino) ([]tree.Xattr, error) {
	var out []tree.Xattr
	prefix := b.r.ks.xattrPrefix(ino)
	err := b.r.r.Scan(prefix, scanEnd(prefix), func(k, v []byte) error {
		out = append(out, tree.Xattr{Name: string(k[len(prefix):]), Value: append([]byte(nil), v...)})
		return nil
	})
	return out, err
}

func (b *builder) extents(ino Ino) ([]tree.Extent, error) {
	var out []tree.Extent
	prefix := b.r.ks.extentPrefix(ino)
	err := b.r.r.Scan(prefix, scanEnd(prefix), func(k, v []byte) error {
		e, err := decodeExtent(binary.BigEndian.Uint64(k[len(prefix):]), v)
		if err != nil {
			return fmt.Errorf("inode %d: %w", ino, err)
		}
		out = append(out, tree.Extent{Off: e.Off, Len: e.Len, Chunk: e.Chunk, ChunkOff: e.ChunkOff})
		return nil
	})
	return out, err
}
