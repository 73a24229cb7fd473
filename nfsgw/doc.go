// Package nfsgw exports cairn volumes over NFSv3, so that pods and VMs
// can mount them (ReadWriteMany).
//
// One TCP port serves NFSv3 (RFC 1813, every procedure) and MOUNTv3,
// including the EXPORT procedure that libnfs asks first; an optional
// built-in portmapper lets `mount -t nfs host:/VOLUME /mnt` work without
// port options. Each volume is mounted at /VOLUME.
//
// The gateway speaks ONC RPC itself and uses github.com/willscott/go-nfs
// for the protocol's vocabulary only (status and procedure codes). go-nfs's
// server is built around billy filesystems, paths and an in-memory handle
// table that a restart forgets; its procedure handlers can't be replaced
// from outside the package; it serves a connection's calls one at a time
// and encodes RPC errors that clients can't decode. Here the procedures
// work directly on the inode-based filesystem core (package fs), calls of
// a connection run concurrently, and file handles are stateless:
//
//	version | kind | volume ID | inode | generation | HMAC-SHA256 tag
//
// signed with a per-cluster secret. They stay valid across restarts and
// on every gateway, can't be forged, and a deleted file's handle is stale
// because inode numbers are never reused.
//
// Access follows exportfs: an export (Export, ParseExport) names the
// networks it is for, and a client outside them is refused at MOUNT and
// on every call, whatever handle it presents; root is squashed unless
// the export says NoRootSquash; Secure admits calls from reserved ports
// only. A gateway given no address listens on loopback unless every
// export names its networks (DefaultAddr), and logs what it exports to
// whom as each listener starts.
//
// READ and WRITE go through a small cache of open files closed when idle;
// UNSTABLE writes stay buffered until COMMIT (or the idle close), whose
// write verifier is a boot nonce, so clients resend after a restart.
// Since the gateway shares the *fs.FS of its process, what one NFS client
// writes is seen at once by the others and by FUSE mounts of the process.
//
// Not provided: the NLM lock protocol (mount with -o nolock, or
// local_lock=all), UDP, a duplicate request cache (a non-idempotent call
// retransmitted after a reconnect may report e.g. NOENT for a REMOVE that
// did happen), and ".." in listings or LOOKUP below a volume's root,
// since the filesystem does not tell a directory's parent.
package nfsgw
