package fs

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs/meta"
)

// Problem is one inconsistency found by Fsck.
type Problem struct {
	Volume string
	Ino    Ino
	What   string
	// Repaired is set when Fsck fixed it.
	Repaired bool
}

func (p Problem) String() string {
	s := fmt.Sprintf("volume %s inode %d: %s", p.Volume, p.Ino, p.What)
	if p.Repaired {
		s += " (repaired)"
	}
	return s
}

// FsckOptions tune Fsck.
type FsckOptions struct {
	// Repair drops what cannot be recovered: extents of missing or corrupt
	// chunks become holes, dangling entries are removed, link counts and
	// usage are recomputed.
	Repair bool
	// Chunks verifies data; it should bypass caches. Nil skips data checks.
	Chunks chunks.Getter
	// Progress, if set, is called as chunks are verified.
	Progress func(done, total int)
}

// FsckReport summarizes a check.
type FsckReport struct {
	Volumes, Inodes, Extents, Chunks int
	Problems                         []Problem
}

// Fsck checks every volume: entries point to live inodes, link counts
// and usage match, extents are sane, and every chunk they name is present
// and verifies. It needs exclusive use of the volumes when repairing.
func (f *FS) Fsck(ctx context.Context, opts FsckOptions) (FsckReport, error) {
	var rep FsckReport
	vols, err := f.ListVolumes(ctx)
	if err != nil {
		return rep, err
	}
	refs := map[chunks.ID][]chunkRef{}
	for _, info := range vols {
		c := &volCheck{fs: f, info: info, ks: newKeyspace(info.ID), refs: refs, rep: &rep}
		if err := c.run(ctx, opts.Repair); err != nil {
			return rep, fmt.Errorf("fsck volume %q: %w", info.Name, err)
		}
		rep.Volumes++
	}
	if opts.Chunks != nil {
		if err := f.checkChunks(ctx, refs, opts, &rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// chunkRef is one extent's use of a chunk.
type chunkRef struct {
	vol VolumeInfo
	ino Ino
	ext extent
}

// checkChunks reads every referenced chunk once.
func (f *FS) checkChunks(ctx context.Context, refs map[chunks.ID][]chunkRef, opts FsckOptions, rep *FsckReport) error {
	ids := make([]chunks.ID, 0, len(refs))
	for id := range refs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return string(ids[i][:]) < string(ids[j][:]) })
	rep.Chunks = len(ids)
	for i, id := range ids {
		if opts.Progress != nil {
			opts.Progress(i, len(ids))
		}
		data, err := opts.Chunks.Get(ctx, id)
		var why string
		switch {
		case errors.Is(err, chunks.ErrNotFound):
			why = "missing"
		case errors.Is(err, chunks.ErrCorrupt):
			why = "corrupt"
		case err != nil:
			return fmt.Errorf("read chunk %s: %w", id, err)
		}
		for _, r := range refs[id] {
			if why == "" && uint64(r.ext.ChunkOff)+r.ext.Len <= uint64(len(data)) {
				continue
			}
			p := Problem{Volume: r.vol.Name, Ino: r.ino}
			if why == "" {
				why = "too short"
			}
			p.What = fmt.Sprintf("extent [%d,%d) uses chunk %s, which is %s", r.ext.Off, r.ext.end(), id, why)
			if opts.Repair {
				if err := f.dropExtent(ctx, r); err != nil {
					return err
				}
				p.Repaired = true
			}
			rep.Problems = append(rep.Problems, p)
		}
	}
	if opts.Progress != nil {
		opts.Progress(len(ids), len(ids))
	}
	return nil
}

// dropExtent turns an unreadable extent into a hole.
func (f *FS) dropExtent(ctx context.Context, r chunkRef) error {
	v := &Volume{fs: f, ks: newKeyspace(r.vol.ID), info: r.vol}
	return v.update(ctx, func(t *txn) error {
		n, err := t.get(r.ino)
		if err != nil {
			return err
		}
		if err := t.tx.Delete(t.ks.extent(r.ino, r.ext.end())); err != nil {
			return err
		}
		n.Alloc -= min(n.Alloc, r.ext.Len)
		if err := t.addUsage(-int64(r.ext.Len), 0); err != nil {
			return err
		}
		return t.put(n)
	})
}

// volCheck checks one volume's metadata.
type volCheck struct {
	fs   *FS
	info VolumeInfo
	ks   keyspace
	refs map[chunks.ID][]chunkRef
	rep  *FsckReport

	inodes map[Ino]*inode
	links  map[Ino]uint32 // names pointing at each inode
	subdir map[Ino]uint32 // subdirectories of each directory
	alloc  map[Ino]uint64
}

func (c *volCheck) problem(ino Ino, repaired bool, format string, args ...any) {
	c.rep.Problems = append(c.rep.Problems, Problem{Volume: c.info.Name, Ino: ino,
		What: fmt.Sprintf(format, args...), Repaired: repaired})
}

func (c *volCheck) run(ctx context.Context, repair bool) error {
	c.inodes, c.links = map[Ino]*inode{}, map[Ino]uint32{}
	c.subdir, c.alloc = map[Ino]uint32{}, map[Ino]uint64{}
	var dangling [][]byte
	var usage Usage
	var orphans map[Ino]bool
	err := c.fs.kv.View(ctx, func(r meta.Reader) error {
		var err error
		if err = c.loadInodes(r); err != nil {
			return err
		}
		if dangling, err = c.checkEntries(r); err != nil {
			return err
		}
		if err = c.checkExtents(r); err != nil {
			return err
		}
		if orphans, err = c.loadOrphans(r); err != nil {
			return err
		}
		usage, err = getUsage(r, c.ks)
		return err
	})
	if err != nil {
		return err
	}
	want := c.expected()
	fixes := c.linkProblems(orphans, repair)
	if usage != want && !c.lazy() {
		c.problem(0, repair, "usage records %d bytes, %d inodes; found %d bytes, %d inodes",
			usage.Bytes, usage.Inodes, want.Bytes, want.Inodes)
	}
	if !repair {
		return nil
	}
	return c.repair(ctx, dangling, fixes, want)
}
