// Package tree encodes the nodes of cairn's Merkle trees: the immutable,
// content-addressed description of a namespace that snapshots are made
// of and that clones are read from.
//
// A node is stored as a chunk, so it is named by the BLAKE3 hash of its
// encoding, deduplicated, replicated and verified like file data. There
// are two kinds:
//
//   - a file node: the file's extended attributes and extents;
//   - a directory node: its extended attributes and its entries, sorted by
//     name, each with the child's attributes and the ID of the child's
//     node (none for symlinks and special files, whose attributes say all).
//
// Attributes live in the parent's entry (as in git trees) so materializing
// a directory takes one node read, not one per child. The encoding is
// deterministic: equal content gives equal bytes, hence equal IDs, which
// is what lets unchanged subtrees keep their ID from snapshot to snapshot.
package tree

import (
	"github.com/cairn-storage/cairn/chunks"
)

// Kind tells file nodes from directory nodes.
type Kind byte

// Node kinds.
const (
	KindFile Kind = 1
	KindDir  Kind = 2
)

// Time is a timestamp with nanosecond precision.
type Time struct {
	Sec  int64
	Nsec uint32
}

// Attr are the attributes of an inode as a tree records them.
type Attr struct {
	Ino   uint64
	Mode  uint32 // file type and permission bits
	Nlink uint32
	Uid   uint32
	Gid   uint32
	Rdev  uint32
	Size  uint64
	// Alloc is the number of bytes the file's extents cover.
	Alloc uint64
	Atime Time
	Mtime Time
	Ctime Time
	Btime Time
}

// Entry is one name in a directory node.
type Entry struct {
	Name string
	Attr Attr
	// Target is a symlink's target.
	Target string
	// Node is the child's node (files and directories); zero otherwise.
	Node chunks.ID
}

// Xattr is one extended attribute.
type Xattr struct {
	Name  string
	Value []byte
}

// Extent maps file bytes [Off, Off+Len) to chunk bytes from ChunkOff.
type Extent struct {
	Off      uint64
	Len      uint64
	Chunk    chunks.ID
	ChunkOff uint32
}

// Node is a decoded file or directory node.
type Node struct {
	Kind    Kind
	Xattrs  []Xattr  // sorted by name
	Extents []Extent // files: sorted by offset, non-overlapping
	Entries []Entry  // directories: sorted by name, unique
}

// Root describes a whole tree: the root directory's attributes and node,
// and what the tree holds.
type Root struct {
	Attr Attr
	Node chunks.ID
	// Bytes and Inodes are the volume's usage at the cut.
	Bytes  uint64
	Inodes uint64
	// Links is set when some file has several names; copying such a tree
	// into a volume is done eagerly (see fs.CreateVolumeFromTree).
	Links bool
}
