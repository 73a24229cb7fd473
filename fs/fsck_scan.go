package fs

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cairn-storage/cairn/fs/meta"
)

func (c *volCheck) loadInodes(r meta.Reader) error {
	prefix := c.ks.key(tagInode, 0)
	return r.Scan(prefix, scanEnd(prefix), func(k, val []byte) error {
		n, err := decodeInode(val)
		if err != nil {
			c.problem(0, false, "undecodable inode record %x: %v", k, err)
			return nil
		}
		c.inodes[n.Ino] = n
		c.rep.Inodes++
		return nil
	})
}

// checkEntries counts names per inode and returns the keys of entries
// that point at no inode.
func (c *volCheck) checkEntries(r meta.Reader) ([][]byte, error) {
	var dangling [][]byte
	prefix := c.ks.key(tagDirent, 0)
	err := r.Scan(prefix, scanEnd(prefix), func(k, val []byte) error {
		rest := k[len(prefix):]
		if len(rest) < 17 || len(val) < 12 {
			c.problem(0, false, "malformed directory entry %x", k)
			return nil
		}
		dir := Ino(binary.BigEndian.Uint64(rest))
		name := string(rest[16:])
		child := Ino(binary.BigEndian.Uint64(val))
		n, ok := c.inodes[child]
		if !ok || c.inodes[dir] == nil {
			c.problem(dir, false, "entry %q points at missing inode %d", name, child)
			dangling = append(dangling, append([]byte(nil), k...))
			return nil
		}
		c.links[child]++
		if n.IsDir() {
			c.subdir[dir]++
		}
		return nil
	})
	return dangling, err
}

func (c *volCheck) checkExtents(r meta.Reader) error {
	prefix := c.ks.key(tagExtent, 0)
	var last extent
	var lastIno Ino
	return r.Scan(prefix, scanEnd(prefix), func(k, val []byte) error {
		rest := k[len(prefix):]
		if len(rest) != 16 {
			c.problem(0, false, "malformed extent key %x", k)
			return nil
		}
		ino := Ino(binary.BigEndian.Uint64(rest))
		e, err := decodeExtent(binary.BigEndian.Uint64(rest[8:]), val)
		if err != nil {
			c.problem(ino, false, "%v", err)
			return nil
		}
		c.rep.Extents++
		n := c.inodes[ino]
		switch {
		case n == nil:
			c.problem(ino, false, "extent [%d,%d) of a missing inode", e.Off, e.end())
		case e.end() > n.Size:
			c.problem(ino, false, "extent [%d,%d) past the size %d", e.Off, e.end(), n.Size)
		case ino == lastIno && e.Off < last.end():
			c.problem(ino, false, "extents [%d,%d) and [%d,%d) overlap", last.Off, last.end(), e.Off, e.end())
		}
		last, lastIno = e, ino
		c.alloc[ino] += e.Len
		c.refs[e.Chunk] = append(c.refs[e.Chunk], chunkRef{vol: c.info, ino: ino, ext: e})
		return nil
	})
}

func (c *volCheck) loadOrphans(r meta.Reader) (map[Ino]bool, error) {
	out := map[Ino]bool{}
	prefix := c.ks.orphans()
	err := r.Scan(prefix, scanEnd(prefix), func(k, _ []byte) error {
		if len(k) == len(prefix)+8 {
			out[Ino(binary.BigEndian.Uint64(k[len(prefix):]))] = true
		}
		return nil
	})
	return out, err
}

// lazy reports whether part of the volume is still in tree nodes, whose
// usage the KV alone cannot add up.
func (c *volCheck) lazy() bool {
	for _, n := range c.inodes {
		if !n.Lazy.IsZero() {
			return true
		}
	}
	return false
}

// expected is the usage the inodes and extents add up to.
func (c *volCheck) expected() Usage {
	u := Usage{Inodes: uint64(len(c.inodes))}
	for _, a := range c.alloc {
		u.Bytes += a
	}
	return u
}

// inodeFix is a corrected inode record.
type inodeFix struct {
	n      *inode
	delete bool // unreachable with no link: reclaim
}

// linkProblems compares link counts and allocation with what was found.
func (c *volCheck) linkProblems(orphans map[Ino]bool, repair bool) []inodeFix {
	var fixes []inodeFix
	for ino, n := range c.inodes {
		if !n.Lazy.IsZero() {
			continue // its entries or extents are still in a tree node
		}
		want := c.links[ino]
		if n.IsDir() {
			want = 2 + c.subdir[ino]
		}
		fixed := *n
		bad := false
		if ino != RootIno && c.links[ino] == 0 && !(n.Nlink == 0 && orphans[ino]) {
			c.problem(ino, repair, "inode with no name (link count %d)", n.Nlink)
			fixes = append(fixes, inodeFix{n: n, delete: true})
			continue
		}
		if n.Nlink != want && !(n.Nlink == 0 && orphans[ino]) {
			c.problem(ino, repair, "link count %d, found %d", n.Nlink, want)
			fixed.Nlink, bad = want, true
		}
		if n.Alloc != c.alloc[ino] {
			c.problem(ino, repair, "allocation %d bytes, extents hold %d", n.Alloc, c.alloc[ino])
			fixed.Alloc, bad = c.alloc[ino], true
		}
		if bad {
			fixes = append(fixes, inodeFix{n: &fixed})
		}
	}
	return fixes
}

// repair writes the corrections.
func (c *volCheck) repair(ctx context.Context, dangling [][]byte, fixes []inodeFix, want Usage) error {
	v := &Volume{fs: c.fs, ks: c.ks, info: c.info, files: map[Ino]*file{}}
	err := v.update(ctx, func(t *txn) error {
		for _, k := range dangling {
			if err := t.tx.Delete(k); err != nil {
				return err
			}
		}
		for _, fx := range fixes {
			if fx.delete {
				fx.n.Nlink = 0
				if err := t.tx.Set(t.ks.orphan(fx.n.Ino), nil); err != nil {
					return err
				}
			}
			if err := t.put(fx.n); err != nil {
				return err
			}
		}
		if c.lazy() {
			return nil
		}
		return putUsage(t.tx, t.ks, want)
	})
	if err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	for _, fx := range fixes {
		if fx.delete {
			if err := v.purge(ctx, fx.n.Ino); err != nil {
				return err
			}
		}
	}
	return nil
}
