// Package csi is cairn's Container Storage Interface driver (spec
// v1.13): it lets Kubernetes create, expand, snapshot, clone and delete
// cairn volumes, and mount them into pods, ReadWriteMany.
//
// # Services
//
// Controller (and GroupController) manage volumes and snapshots through
// a Backend, the small interface this package declares for what it needs
// of cairn; package csi/apibackend implements it over the control API of
// the node daemon. A volume is a cairn volume whose quota is the
// requested capacity; a clone, from a snapshot or from a volume, is
// created in constant time (a volume whose root is a snapshot tree); a
// group snapshot cuts every volume at one instant. Node publishes a
// volume at a target path through a FUSE mount, or from a cairn NFS
// gateway (mounter: nfs, with the StorageClass parameters of
// csi-driver-nfs), and records every publication in a state directory.
// Identity's Probe reports the health of the store behind the driver.
//
// # One daemon per node owns the data
//
// A data directory has one owner: badger admits one process. The
// controller (creating volumes, taking snapshots), every FUSE mount
// (serving a volume), the CLI and the dashboard all need it, and a FUSE
// mount must outlive the CSI plugin: when the plugin restarts (an
// upgrade, a crash) the pods keep their mounts, and a mount whose server
// died cannot be revived under a running pod. So neither "the plugin
// opens the data directory" (its restart would kill every mount) nor
// "one `cairn mount` process per publication" (two mounts, or a mount
// and the controller, would both open it) works.
//
// The owner is therefore the node daemon, `cairn server`, the one
// long-lived process per node that holds the data (a data directory, or
// a cluster membership) and serves the cairn.v1 control API on a unix
// socket in the data directory (and, for a controller in another pod, on
// TCP with a bearer token or mutual TLS). The driver is one client of it
// among others: the CLI run on the node and the dashboard use the same
// API and see the pods' mounts (owner csi) beside their own. The plugin
// the CO talks to (`cairn csi`, package csi/plugin) holds no data: its
// controller calls the daemon's Volumes, Snapshots and Health services,
// and its node service asks the daemon's Mounts service for FUSE mounts
// at the targets, mounts NFS itself, and owns the publication records.
//
// The plugin starts the daemon when none answers on the unix socket
// (os/exec of `cairn --data DATA server --no-nfs`, in its own session
// and process group, recorded in the state directory), so the daemon and
// its mounts survive the plugin's restart; in Kubernetes the daemon is a
// container of its own beside the plugin instead. A restarted plugin
// re-attaches: it keeps the publications that are live mounts and, if
// the daemon died, starts a new one and mounts the dead or missing ones
// again (also every --repair-interval). Unpublishing works whatever the
// state of the mount: cleanly through the daemon (a lazy unmount, so a
// busy mount is detached and served until its files close), or, if the
// daemon was killed, by detaching the dead mount (umount -l; ENOTCONN is
// what such a mount answers).
//
// Two publications of a volume on a node are two FUSE mounts served by
// the same process and the same fs.Volume, so they are as coherent as
// one mount. On a cluster the daemon of each node is a client of the
// cluster (etcd metadata, networked chunks), and the controller's
// daemon, beside the servers, another: nothing in the driver changes.
//
// # IDs
//
// A volume ID is the cairn volume's name (the CO's name when it is a
// valid cairn name, as Kubernetes' pvc-UUID is, else a hash of it); a
// snapshot ID is VOLUME@NAME; a group snapshot ID is the name its member
// snapshots share. An ID that cannot be one of these (another driver's)
// names nothing: lookups answer NotFound, deletions succeed.
package csi
