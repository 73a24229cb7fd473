package nfsgw

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/cairn-storage/cairn/fs"
)

// Snapshots gives the gateway what each export's .snapshots directory
// shows: the volume's snapshots, each browsed as a read-only view volume.
type Snapshots interface {
	// List returns the snapshots of the named volume.
	List(ctx context.Context, volume string) ([]SnapshotRef, error)
	// Open opens the read-only view of snapshot name of volume
	// (fs.OpenTreeVolume); a missing snapshot is an error wrapping
	// syscall.ENOENT. The gateway closes the volume when it stops.
	Open(ctx context.Context, volume, name string) (*fs.Volume, error)
}

// SnapshotRef is one entry of .snapshots.
type SnapshotRef struct {
	Name    string
	Created time.Time
}

// snapDirName is the virtual directory in the root of each export.
const snapDirName = ".snapshots"

// snapDirIno is the fileid of .snapshots, far above fs's inode numbers.
const snapDirIno fs.Ino = 1<<63 | 1

// snapDirAttr returns the attributes of the .snapshots directory of e:
// those of its root, read-only.
func snapDirAttr(ctx context.Context, e *export) (fs.Attr, error) {
	a, err := e.vol.GetAttr(ctx, fs.RootIno)
	if err != nil {
		return fs.Attr{}, err
	}
	a.Ino, a.Gen = snapDirIno, 0
	a.Mode = syscall.S_IFDIR | 0o555
	a.Nlink, a.Size, a.Blocks = 2, 0, 0
	return a, nil
}

// hasSnapDir reports whether the export's root has a .snapshots directory.
func (t *exportTable) hasSnapDir(e *export) bool { return t.snaps != nil && e.parent == nil }

// view returns the export of snapshot name of export parent, opening it
// on first use. It is read-only and takes the parent's options.
func (t *exportTable) view(ctx context.Context, parent *export, name string) (*export, error) {
	if !t.hasSnapDir(parent) || name == "" || strings.ContainsAny(name, "/@") {
		return nil, syscall.ENOENT
	}
	key := fs.TreeVolumeName(parent.Volume, name)
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.byName[key]; e != nil {
		return e, nil
	}
	vol, err := t.snaps.Open(ctx, parent.Volume, name)
	if err != nil {
		return nil, err
	}
	cfg := parent.Export
	cfg.Volume, cfg.ReadOnly = key, true
	e := &export{Export: cfg, id: vol.Info().ID, vol: vol, parent: parent}
	t.byName[key], t.byID[e.id] = e, e
	return e, nil
}

// viewByName finds the export of a hidden view volume VOLUME@SNAPSHOT
// from its name, for a handle that outlived the gateway's cache.
func (t *exportTable) viewByName(ctx context.Context, name string) (*export, error) {
	vol, snap, _ := strings.Cut(name, "@")
	parent, err := t.byVolumeName(ctx, vol)
	if err != nil {
		return nil, err
	}
	return t.view(ctx, parent, snap)
}

// snapLookup looks name up in the .snapshots directory t.
func (s *Server) snapLookup(ctx context.Context, t *target, name string) (fs.Attr, *export, error) {
	switch name {
	case ".":
		return t.attr, t.exp, nil
	case "..":
		a, err := t.exp.vol.GetAttr(ctx, fs.RootIno)
		return a, t.exp, err
	}
	v, err := s.exports.view(ctx, t.exp, name)
	if errors.Is(err, syscall.ENOENT) {
		return fs.Attr{}, nil, fmt.Errorf("snapshot %q: %w", name, syscall.ENOENT)
	} else if err != nil {
		return fs.Attr{}, nil, err
	}
	a, err := v.vol.GetAttr(ctx, fs.RootIno)
	return a, v, err
}

// snapEntries lists the .snapshots directory t: its snapshots by name,
// with cookies from 3 up.
func (s *Server) snapEntries(ctx context.Context, t *target) ([]fs.DirEntry, error) {
	refs, err := s.exports.snaps.List(ctx, t.exp.Volume)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(refs, func(a, b SnapshotRef) int { return strings.Compare(a.Name, b.Name) })
	out := make([]fs.DirEntry, 0, len(refs))
	for i, r := range refs {
		out = append(out, fs.DirEntry{Name: r.Name, Ino: snapDirIno + 1 + fs.Ino(i),
			Mode: syscall.S_IFDIR, Cookie: dotdotCookie + 1 + uint64(i)})
	}
	return out, nil
}

// shadowed reports whether name in directory t is .snapshots, which hides
// any entry of that name in an export's root: it can be neither removed
// nor renamed, nor replaced by a rename.
func (s *Server) shadowed(t *target, name string) bool {
	return name == snapDirName && t.ino == fs.RootIno && s.exports.hasSnapDir(t.exp)
}
