// Package csi is cairn's Container Storage Interface driver (spec
// v1.13): it lets Kubernetes create, expand, snapshot, clone and delete
// cairn volumes, and mount them into pods, ReadWriteMany.
//
// # Services
//
// Controller (and GroupController) manage volumes and snapshots through
// a Backend, the small interface this package declares for what it needs
// of cairn; package csi/fsbackend implements it over fs and snapshots. A
// volume is a cairn volume whose quota is the requested capacity; a
// clone, from a snapshot or from a volume, is created in constant time
// (a volume whose root is a snapshot tree); a group snapshot cuts every
// volume at one instant. Node publishes a volume at a target path
// through a FUSE mount, or from a cairn NFS gateway (mounter: nfs, with
// the StorageClass parameters of csi-driver-nfs), and records every
// publication in a state directory. Identity's Probe reports the health
// of the data directory behind the driver.
//
// # Who owns the data directory
//
// A data directory has one owner: badger admits one process. Both the
// controller (creating volumes, taking snapshots) and every FUSE mount
// (serving a volume) need it, and a FUSE mount must outlive the CSI
// plugin: when the plugin restarts (an upgrade, a crash) the pods keep
// their mounts, and a mount whose server died cannot be revived under a
// running pod. So neither "the plugin opens the data directory" (its
// restart would kill every mount) nor "one `cairn mount` process per
// publication" (two mounts, or a mount and the controller, would both
// open the data directory) works.
//
// The driver therefore runs the one owner as its own long-lived process,
// the host (package csi/host, `cairn csi host`): it opens the data
// directory, serves the Controller and GroupController over it, and
// serves every FUSE mount of the node, all in-process, on a local socket
// (and, for a controller in another pod, on TCP with a bearer token). The
// host speaks CSI itself: its Node service's NodePublishVolume mounts a
// volume at a target, so no new protocol is needed. The plugin the CO
// talks to (`cairn csi`) is thin: it forwards the controller's calls to
// the host, and its node service asks the host for FUSE mounts, mounts
// NFS itself, and owns the publication records. The plugin starts the
// host when none answers (os/exec, in its own session and process group,
// recorded in the state directory), so the host and its mounts survive
// the plugin's restart; a restarted plugin re-attaches: it keeps the
// publications that are live mounts and, if the host died, starts a new
// one and mounts the dead or missing ones again (also every
// --repair-interval). Unpublishing works whatever the state of the mount:
// cleanly through the host, or, if the host was killed, by detaching the
// dead mount (umount -l; ENOTCONN is what such a mount answers).
//
// Two publications of a volume on a node are two FUSE mounts served by
// the same process and the same fs.Volume, so they are as coherent as
// one mount. Once the cluster work lets several processes share a
// filesystem (etcd metadata, networked chunks), the host of each node
// opens the cluster instead of a local directory and the controller can
// open it in-process; nothing else changes.
//
// # IDs
//
// A volume ID is the cairn volume's name (the CO's name when it is a
// valid cairn name, as Kubernetes' pvc-UUID is, else a hash of it); a
// snapshot ID is VOLUME@NAME; a group snapshot ID is the name its member
// snapshots share. An ID that cannot be one of these (another driver's)
// names nothing: lookups answer NotFound, deletions succeed.
package csi
