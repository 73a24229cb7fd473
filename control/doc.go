// Package control serves the cairn.v1 control API (package
// api/cairn/v1) over an open filesystem: volumes, snapshots, FUSE
// mounts, maintenance, the cluster and health. It is what makes
// `cairn server` the one front door of a node: the CLI, the CSI driver
// and the dashboard are clients of it (package control/client).
//
// It sits between the clients and the frontends: it wires FUSE mounts
// (fusefs) and reports NFS clients (nfsgw), over the fs core and the
// snapshot manager; it never opens a data directory itself.
//
// Errors are converted to gRPC status codes in exactly one place
// (statusError), by interceptors, so each RPC returns plain wrapped
// errors.
package control
