// Package snapshots takes, keeps and ships snapshots of cairn volumes.
//
// A snapshot is a Merkle tree of the namespace (package fs/tree), cut by
// fs.Snapshot at one consistent point and stored as chunks; this package
// keeps a record per snapshot in the metadata KV and builds the
// operations on top: create (with hooks, and of a group of volumes at one
// instant), list, info, delete, diff, restore and clone (both O(1)),
// scheduled snapshots with retention, garbage collection of the chunk
// store, and send/receive/push of snapshots between data directories.
//
// # Records
//
// Every key of this package starts with "S" (reserved for it in the KV):
//
//	"S" vol name               snapshot record (JSON, see Snapshot)
//	"S" 0 "sched/" volume      schedule of a volume (JSON, see Schedule)
//	"S" 0 "restore/" volume    restore in progress (JSON; see Restore)
//
// vol is the 8-byte big-endian ID of the volume the snapshot was taken of;
// volume IDs start at 1, so ID 0 holds this package's other records.
//
// # Garbage collection and concurrency
//
// GC marks from every snapshot record, from the live volumes
// (fs.LiveRoots) and from objects pinned by receives in progress, then
// sweeps unmarked chunks older than a grace period. Operations that make
// new references to existing chunks (create, restore, clone, receive)
// coordinate with a GC of the same Manager, see gc.go. Only one process
// opens a data directory, so one Manager per process sees every writer.
package snapshots
