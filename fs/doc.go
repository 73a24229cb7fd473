// Package fs is cairn's POSIX filesystem core: volumes, inodes,
// directories, extents and write buffers, written once over the narrow
// meta.KV transaction interface and the chunks store interfaces. The FUSE
// adapter, the NFS gateway and the CSI driver all drive this package; it
// knows nothing of them, nor of badger, etcd or the cluster.
//
// # Data model
//
// Everything lives in the KV under short binary keys (integers are 8-byte
// big-endian, so keys sort numerically):
//
//	"c"                        next volume ID
//	"n" name                   volume ID of the volume called name
//	"v" vol                    volume record (JSON: name, quota, options)
//	"s" name                   a cluster-wide secret (NFS handle key)
//	"f" vol "N"                next free inode number of the volume
//	"f" vol "U"                usage: allocated bytes and inode count
//	"f" vol "i" ino            inode record
//	"f" vol "d" dir cookie name  directory entry: child ino and type
//	"f" vol "e" ino end        extent ending at file offset end
//	"f" vol "x" ino name       extended attribute
//	"f" vol "o" ino            orphan: unlinked while open, to reclaim
//
// Directory entries are keyed by a 62-bit hash of the name (the cookie)
// before the name itself, so a readdir position is a number that stays
// valid while other entries come and go: exactly what NFS READDIR cookies
// and seekdir/telldir need.
//
// A regular file is a sorted list of non-overlapping extents, each naming
// a range of one chunk. Extents are keyed by their end offset so a forward
// scan from offset+1 finds the extent covering an offset without reverse
// iteration (which etcd does poorly). Missing ranges are holes and read as
// zeros. A write never rewrites chunks: it stores new chunks and splices
// its extents over the old ones, trimming them.
//
// Inode numbers are never reused within a volume, so an (volume, inode,
// generation) triple names one file forever: NFS handles rely on it.
package fs
