// Package fusefs serves a cairn volume (an *fs.Volume) to the kernel
// through FUSE, with go-fuse's inode-based API. It is a thin adapter: every
// operation is one or two calls into package fs, which owns the semantics.
//
//	srv, err := fusefs.Mount(vol, "/mnt/data", fusefs.Options{Sync: fsys.Sync})
//	...
//	srv.Wait() // until someone unmounts it; or srv.Unmount()
//
// Inode numbers are fs's, so they are stable across mounts; directory
// offsets are fs's entry cookies ("." and ".." come first, at 1 and 2), so
// telldir and seekdir positions stay valid while entries come and go.
//
// # Permissions
//
// The mount uses the kernel's default_permissions, so the kernel checks
// access with the caller's full credentials before a request arrives; fs
// checks again with the identity the request carries (uid, gid). FUSE does
// not send supplementary groups: they are read from /proc/PID/status only
// when they can matter, for callers other than root: when fs refuses an
// operation with EACCES or EPERM (it is then retried once with the
// groups), and when whether a file keeps its set-group-ID bit depends on
// them: creating a file or chmod with that bit, chown, truncate, and
// opening an existing file for writing.
//
// New files get exactly the mode the kernel sends. The kernel has already
// applied the caller's umask (go-fuse does not negotiate FUSE_DONT_MASK),
// so the result is what a local ext4 directory gives; the daemon's own
// umask plays no part.
//
// # Caching and coherence
//
// Attributes and entries are cached by the kernel for Options.AttrTimeout
// and Options.EntryTimeout (1s by default). Files are opened without
// FOPEN_KEEP_CACHE, so each open revalidates the page cache: this gives
// the close-to-open consistency cairn promises across clients. With
// Options.Writeback the kernel buffers writes itself (faster, but data
// reaches cairn only at flush, fsync or writeback time).
//
// # Requests are not cancelled
//
// Go programs receive SIGURG all the time, and every signal makes the
// kernel send FUSE_INTERRUPT. Honouring those would turn ordinary
// operations into spurious EINTR errors, and fs operations are short
// transactions, so the adapter runs every request to completion.
//
// # Errors
//
// fs reports errors that wrap a syscall.Errno; the adapter converts them
// in one place (errno). Anything else becomes EIO and is logged.
//
// # Unmounting
//
// When a connection ends with files still open (after a lazy unmount, for
// instance) the kernel drops their RELEASE requests. The server releases
// those handles itself once the mount is gone, so unlinked files are
// reclaimed and nothing stays referenced.
//
// # Limitations
//
//   - POSIX and BSD locks are handled by the kernel and are local to one
//     mount.
//   - A file created with O_TMPFILE cannot be linked into the namespace
//     afterwards (linkat fails with ENOENT): fs has no unnamed inodes, so
//     the adapter creates a hidden name and removes it at once.
//   - fs deletes a directory as soon as it is removed; fstat of one still
//     open reports the attributes last seen, with no links.
//   - Birth times (statx STATX_BTIME) are not reported.
package fusefs
