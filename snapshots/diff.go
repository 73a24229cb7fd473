package snapshots

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
	"syscall"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fs/tree"
)

// Change types.
const (
	Added    = "added"
	Removed  = "removed"
	Modified = "modified"
	Renamed  = "renamed"
)

// Change is one difference between two trees.
type Change struct {
	Type string `json:"type"` // added, removed, modified or renamed
	Path string `json:"path"` // the path in the newer tree (removed: in the older)
	From string `json:"from,omitempty"`
	Kind string `json:"kind"` // file, dir, symlink, fifo, socket, char or block
	Ino  uint64 `json:"ino"`
}

// DiffResult lists the changes from one tree to another, sorted by path.
type DiffResult struct {
	From     string   `json:"from"`
	To       string   `json:"to"`
	Changes  []Change `json:"changes"`
	Added    int      `json:"added"`
	Removed  int      `json:"removed"`
	Modified int      `json:"modified"`
	Renamed  int      `json:"renamed"`
}

// Diff compares snapshot a (VOLUME@NAME) with b, a snapshot or, without
// '@', a live volume (cut for the comparison). Unchanged subtrees are
// skipped by their node ID, so the cost follows what changed. A path
// whose inode number moved is reported as renamed (the children of a
// renamed directory are not listed again); a modified one changed
// content, attributes other than atime and ctime, or xattrs.
func (m *Manager) Diff(ctx context.Context, a, b string) (DiffResult, error) {
	sa, err := m.Get(ctx, a)
	if err != nil {
		return DiffResult{}, err
	}
	res := DiffResult{From: sa.Ref(), To: b}
	var rootB tree.Root
	if strings.Contains(b, "@") {
		sb, err := m.Get(ctx, b)
		if err != nil {
			return res, err
		}
		rootB, res.To = sb.Root, sb.Ref()
	} else {
		// The cut of a live volume is unrecorded: refMu keeps a GC from
		// sweeping it while it is read.
		m.refMu.RLock()
		defer m.refMu.RUnlock()
		if rootB, err = m.cutLive(ctx, b); err != nil {
			return res, err
		}
	}
	d := &differ{get: m.store}
	if err := d.run(ctx, sa.Root, rootB); err != nil {
		return res, fmt.Errorf("diff %s %s: %w", res.From, res.To, err)
	}
	res.Changes = d.changes()
	for _, c := range res.Changes {
		switch c.Type {
		case Added:
			res.Added++
		case Removed:
			res.Removed++
		case Modified:
			res.Modified++
		case Renamed:
			res.Renamed++
		}
	}
	return res, nil
}

// cutLive cuts a live volume without recording it.
func (m *Manager) cutLive(ctx context.Context, volume string) (tree.Root, error) {
	v, err := m.fs.OpenVolume(ctx, volume)
	if err != nil {
		return tree.Root{}, err
	}
	defer v.Close(context.WithoutCancel(ctx))
	cuts, err := m.fs.Snapshot(ctx, []*fs.Volume{v}, fs.SnapshotOptions{Freeze: m.opts.Freeze})
	if err != nil {
		return tree.Root{}, fmt.Errorf("cut %s: %w", volume, err)
	}
	if len(cuts) != 1 {
		return tree.Root{}, fmt.Errorf("cut %s: got %d trees", volume, len(cuts))
	}
	return cuts[0].Root, nil
}

// item is one path of a tree, as the differ sees it.
type item struct {
	path   string
	e      tree.Entry
	xattrs []byte // directories: their encoded xattrs
}

type differ struct {
	get            chunks.Getter
	added, removed []item
	modified       []item
	renames        []item            // the new paths of renamed inodes
	pairs          map[string]string // renamed: new path -> old path
}

func (d *differ) run(ctx context.Context, a, b tree.Root) error {
	ea := tree.Entry{Name: "/", Attr: a.Attr, Node: a.Node}
	eb := tree.Entry{Name: "/", Attr: b.Attr, Node: b.Node}
	if err := d.compare(ctx, "/", ea, eb); err != nil {
		return err
	}
	return d.matchRenames()
}

// compare diffs two entries at one path that are the same inode.
func (d *differ) compare(ctx context.Context, p string, a, b tree.Entry) error {
	if !isDirMode(a.Attr.Mode) {
		if attrChanged(a.Attr, b.Attr) || a.Target != b.Target || a.Node != b.Node {
			d.modified = append(d.modified, item{path: p, e: b})
		}
		return nil
	}
	if a.Node == b.Node {
		if attrChanged(a.Attr, b.Attr) {
			d.modified = append(d.modified, item{path: p, e: b})
		}
		return nil
	}
	na, err := readNode(ctx, d.get, a.Node)
	if err != nil {
		return err
	}
	nb, err := readNode(ctx, d.get, b.Node)
	if err != nil {
		return err
	}
	if attrChanged(a.Attr, b.Attr) || !bytes.Equal(xattrKey(na), xattrKey(nb)) {
		d.modified = append(d.modified, item{path: p, e: b})
	}
	i, j := 0, 0
	for i < len(na.Entries) || j < len(nb.Entries) {
		switch {
		case j == len(nb.Entries) || (i < len(na.Entries) && na.Entries[i].Name < nb.Entries[j].Name):
			if err := d.expand(ctx, path.Join(p, na.Entries[i].Name), na.Entries[i], &d.removed); err != nil {
				return err
			}
			i++
		case i == len(na.Entries) || nb.Entries[j].Name < na.Entries[i].Name:
			if err := d.expand(ctx, path.Join(p, nb.Entries[j].Name), nb.Entries[j], &d.added); err != nil {
				return err
			}
			j++
		default:
			ea, eb := na.Entries[i], nb.Entries[j]
			cp := path.Join(p, ea.Name)
			if ea.Attr.Ino != eb.Attr.Ino || ea.Attr.Mode&syscall.S_IFMT != eb.Attr.Mode&syscall.S_IFMT {
				if err := d.expand(ctx, cp, ea, &d.removed); err != nil {
					return err
				}
				if err := d.expand(ctx, cp, eb, &d.added); err != nil {
					return err
				}
			} else if err := d.compare(ctx, cp, ea, eb); err != nil {
				return err
			}
			i++
			j++
		}
	}
	return nil
}

// expand lists an entry and, for a directory, everything below it.
func (d *differ) expand(ctx context.Context, p string, e tree.Entry, out *[]item) error {
	it := item{path: p, e: e}
	if !isDirMode(e.Attr.Mode) || e.Node.IsZero() {
		*out = append(*out, it)
		return nil
	}
	n, err := readNode(ctx, d.get, e.Node)
	if err != nil {
		return err
	}
	it.xattrs = xattrKey(n)
	*out = append(*out, it)
	for _, c := range n.Entries {
		if err := d.expand(ctx, path.Join(p, c.Name), c, out); err != nil {
			return err
		}
	}
	return nil
}

// matchRenames pairs removed and added paths of the same inode.
func (d *differ) matchRenames() error {
	byIno := map[uint64][]int{}
	for i, r := range d.removed {
		byIno[r.e.Attr.Ino] = append(byIno[r.e.Attr.Ino], i)
	}
	sort.SliceStable(d.added, func(i, j int) bool { return d.added[i].path < d.added[j].path })
	usedR := make([]bool, len(d.removed))
	usedA := make([]bool, len(d.added))
	d.pairs = map[string]string{}
	for ai, a := range d.added {
		cands := byIno[a.e.Attr.Ino]
		for k, ri := range cands {
			r := d.removed[ri]
			if r.e.Attr.Mode&syscall.S_IFMT != a.e.Attr.Mode&syscall.S_IFMT {
				continue
			}
			usedR[ri], usedA[ai] = true, true
			byIno[a.e.Attr.Ino] = append(cands[:k:k], cands[k+1:]...)
			d.pairs[a.path] = r.path
			d.renames = append(d.renames, a)
			if !isDirMode(a.e.Attr.Mode) && (attrChanged(r.e.Attr, a.e.Attr) || r.e.Target != a.e.Target || r.e.Node != a.e.Node) ||
				isDirMode(a.e.Attr.Mode) && (attrChanged(r.e.Attr, a.e.Attr) || !bytes.Equal(r.xattrs, a.xattrs)) {
				d.modified = append(d.modified, a)
			}
			break
		}
	}
	d.added = keep(d.added, usedA)
	d.removed = keep(d.removed, usedR)
	return nil
}

func keep(items []item, used []bool) []item {
	out := items[:0]
	for i, it := range items {
		if !used[i] {
			out = append(out, it)
		}
	}
	return out
}

// changes returns the result, dropping renames implied by a renamed parent.
func (d *differ) changes() []Change {
	var out []Change
	for _, it := range d.added {
		out = append(out, change(Added, it, ""))
	}
	for _, it := range d.removed {
		out = append(out, change(Removed, it, ""))
	}
	for _, it := range d.modified {
		out = append(out, change(Modified, it, ""))
	}
	for _, it := range d.renames {
		to, from := it.path, d.pairs[it.path]
		if pf, ok := d.pairs[path.Dir(to)]; ok && pf == path.Dir(from) && path.Base(from) == path.Base(to) {
			continue // moved along with its directory
		}
		out = append(out, change(Renamed, it, from))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Type < out[j].Type
	})
	return out
}

func change(typ string, it item, from string) Change {
	return Change{Type: typ, Path: it.path, From: from, Kind: kindOf(it.e.Attr.Mode), Ino: it.e.Attr.Ino}
}

// kindOf names a file type.
func kindOf(mode uint32) string {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return "dir"
	case syscall.S_IFLNK:
		return "symlink"
	case syscall.S_IFIFO:
		return "fifo"
	case syscall.S_IFSOCK:
		return "socket"
	case syscall.S_IFCHR:
		return "char"
	case syscall.S_IFBLK:
		return "block"
	}
	return "file"
}

// attrChanged compares attributes, ignoring atime and ctime.
func attrChanged(a, b tree.Attr) bool {
	a.Atime, b.Atime, a.Ctime, b.Ctime = tree.Time{}, tree.Time{}, tree.Time{}, tree.Time{}
	return a != b
}

// xattrKey encodes a node's xattrs for comparison.
func xattrKey(n *tree.Node) []byte {
	var b []byte
	for _, x := range n.Xattrs {
		b = fmt.Appendf(b, "%d:%s%d:%s", len(x.Name), x.Name, len(x.Value), x.Value)
	}
	return b
}
