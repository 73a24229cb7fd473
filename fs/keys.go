package fs

import (
	"encoding/binary"

	"github.com/cairn-storage/cairn/fs/meta"
)

// Ino is an inode number, unique and never reused within a volume.
type Ino uint64

// RootIno is the inode number of every volume's root directory.
const RootIno Ino = 1

// Key tags of the per-volume keyspace; see the package documentation.
const (
	tagNextIno = 'N'
	tagEpoch   = 'E'
	tagUsage   = 'U'
	tagInode   = 'i'
	tagDirent  = 'd'
	tagExtent  = 'e'
	tagXattr   = 'x'
	tagOrphan  = 'o'
)

var (
	keyNextVolume = []byte("c")
)

func be64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

func be64ToU(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

func volumeNameKey(name string) []byte { return append([]byte("n"), name...) }

func volumeRecordKey(id uint64) []byte { return be64([]byte("v"), id) }

// keyspace builds the keys of one volume.
type keyspace struct{ prefix []byte }

func newKeyspace(vol uint64) keyspace {
	return keyspace{prefix: be64([]byte("f"), vol)}
}

func (k keyspace) key(tag byte, n int) []byte {
	b := make([]byte, len(k.prefix)+1, len(k.prefix)+1+n)
	copy(b, k.prefix)
	b[len(k.prefix)] = tag
	return b
}

func (k keyspace) all() []byte { return k.prefix }

func (k keyspace) nextIno() []byte { return k.key(tagNextIno, 0) }

func (k keyspace) usage() []byte { return k.key(tagUsage, 0) }

func (k keyspace) epoch() []byte { return k.key(tagEpoch, 0) }

func (k keyspace) inode(ino Ino) []byte { return be64(k.key(tagInode, 8), uint64(ino)) }

func (k keyspace) orphan(ino Ino) []byte { return be64(k.key(tagOrphan, 8), uint64(ino)) }

func (k keyspace) orphans() []byte { return k.key(tagOrphan, 0) }

// direntPrefix is the prefix of every entry of directory dir.
func (k keyspace) direntPrefix(dir Ino) []byte { return be64(k.key(tagDirent, 8), uint64(dir)) }

func (k keyspace) dirent(dir Ino, name string) []byte {
	b := be64(k.direntPrefix(dir), nameCookie(name))
	return append(b, name...)
}

// direntFrom is the first key at or after readdir position cookie.
func (k keyspace) direntFrom(dir Ino, cookie uint64) []byte {
	return be64(k.direntPrefix(dir), cookie)
}

func (k keyspace) extentPrefix(ino Ino) []byte { return be64(k.key(tagExtent, 16), uint64(ino)) }

func (k keyspace) extent(ino Ino, end uint64) []byte { return be64(k.extentPrefix(ino), end) }

func (k keyspace) xattrPrefix(ino Ino) []byte { return be64(k.key(tagXattr, 8), uint64(ino)) }

func (k keyspace) xattr(ino Ino, name string) []byte { return append(k.xattrPrefix(ino), name...) }

// scanEnd is the end bound of a scan over prefix.
func scanEnd(prefix []byte) []byte { return meta.PrefixEnd(prefix) }
