package csi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
)

// TopologyKey is the topology segment NodeGetInfo reports the zone in.
const TopologyKey = "topology." + DriverName + "/zone"

// Publisher mounts volumes through FUSE at target paths of this node, in
// a process that outlives the node plugin: the node daemon (see the
// package doc).
type Publisher interface {
	// Publish mounts volume at target, an existing directory. It is
	// idempotent; a missing volume is ErrNotFound.
	Publish(ctx context.Context, volume, target string, readOnly bool) error
	// Unpublish unmounts target cleanly (flushing what is buffered).
	// ErrNotFound if the publisher has nothing mounted there.
	Unpublish(ctx context.Context, target string) error
	// Check returns nil if the publisher can serve mounts, starting it
	// first if it is down and may be started.
	Check(ctx context.Context) error
}

// NodeOptions configure a Node.
type NodeOptions struct {
	NodeID string
	// Zone, if set, is reported as the node's topology (TopologyKey).
	Zone string
	// StateDir keeps the records of what is published.
	StateDir string
	// FUSE mounts FUSE volumes; nil makes FUSE publishes fail with
	// FailedPrecondition (NFS still works).
	FUSE Publisher
	// MountNFS makes an NFS mount: with mount(8) if the system has one,
	// else with mount(2), if nil.
	MountNFS func(ctx context.Context, m NFSMount) error
	// MountInfo is the mount table to read; /proc/self/mountinfo if "".
	MountInfo string
	Logger    *slog.Logger
}

// Node serves the CSI Node service: it publishes volumes at target
// paths through FUSE (by its Publisher) or NFS (mount(8), else mount(2)), records
// every publication, and unpublishes whatever state the mount is in.
type Node struct {
	csi.UnimplementedNodeServer
	opts  NodeOptions
	log   *slog.Logger
	pubs  *publications
	locks keyedMutex
}

// NewNode returns a node service keeping its records in opts.StateDir.
func NewNode(opts NodeOptions) (*Node, error) {
	if opts.NodeID == "" {
		return nil, errors.New("node: a node ID is required")
	}
	if opts.StateDir == "" {
		return nil, errors.New("node: a state directory is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MountInfo == "" {
		opts.MountInfo = "/proc/self/mountinfo"
	}
	if opts.MountNFS == nil {
		opts.MountNFS = mountNFS
	}
	pubs, err := openPublications(opts.StateDir)
	if err != nil {
		return nil, err
	}
	return &Node{opts: opts, log: opts.Logger, pubs: pubs}, nil
}

// NodeGetCapabilities lists what the node service does.
func (n *Node) NodeGetCapabilities(context.Context, *csi.NodeGetCapabilitiesRequest) (*csi.NodeGetCapabilitiesResponse, error) {
	var caps []*csi.NodeServiceCapability
	for _, t := range []csi.NodeServiceCapability_RPC_Type{
		csi.NodeServiceCapability_RPC_GET_VOLUME_STATS,
		csi.NodeServiceCapability_RPC_SINGLE_NODE_MULTI_WRITER,
		csi.NodeServiceCapability_RPC_GET_VOLUME_HEALTH,
		csi.NodeServiceCapability_RPC_GET_STORAGE_HEALTH,
	} {
		caps = append(caps, &csi.NodeServiceCapability{Type: &csi.NodeServiceCapability_Rpc{
			Rpc: &csi.NodeServiceCapability_RPC{Type: t}}})
	}
	return &csi.NodeGetCapabilitiesResponse{Capabilities: caps}, nil
}

// NodeGetInfo names the node and its zone.
func (n *Node) NodeGetInfo(context.Context, *csi.NodeGetInfoRequest) (*csi.NodeGetInfoResponse, error) {
	resp := &csi.NodeGetInfoResponse{NodeId: n.opts.NodeID}
	if n.opts.Zone != "" {
		resp.AccessibleTopology = &csi.Topology{Segments: map[string]string{TopologyKey: n.opts.Zone}}
	}
	return resp, nil
}

// singleWriter reports whether mode allows one publication per node.
func singleWriter(mode string) bool {
	return mode == csi.VolumeCapability_AccessMode_SINGLE_NODE_SINGLE_WRITER.String()
}

// NodePublishVolume mounts a volume at the target path (creating the
// directory): through FUSE by default, or from a cairn NFS gateway.
func (n *Node) NodePublishVolume(ctx context.Context, req *csi.NodePublishVolumeRequest) (*csi.NodePublishVolumeResponse, error) {
	id, target := req.GetVolumeId(), req.GetTargetPath()
	switch {
	case id == "":
		return nil, missing("volume_id")
	case target == "":
		return nil, missing("target_path")
	case !strings.HasPrefix(target, "/"):
		return nil, errorf(codes.InvalidArgument, "target_path %q is not absolute", target)
	}
	vc := req.GetVolumeCapability()
	if err := checkCapability(vc); err != nil {
		return nil, err
	}
	if !validVolumeID(id) {
		return nil, errorf(codes.NotFound, "volume %q is not a volume of this driver", id)
	}
	ms, err := parseMountSpec(req.GetVolumeContext(), "volume context")
	if err != nil {
		return nil, err
	}
	mode := vc.GetAccessMode().GetMode()
	pub := publication{Volume: id, Target: target, Mounter: ms.Mounter, Mode: mode.String(),
		ReadOnly: req.GetReadonly() || readOnlyMode(mode), Published: time.Now().UTC()}
	for _, f := range vc.GetMount().GetMountFlags() {
		if f == "ro" {
			pub.ReadOnly = true
		} else if ms.Mounter == MounterNFS {
			if _, err := parseMountOptions(f); err != nil {
				return nil, errorf(codes.InvalidArgument, "mount flag %q: %v", f, err)
			}
			pub.MountFlags = append(pub.MountFlags, f)
		} else {
			n.log.Warn("csi: mount flag ignored by FUSE mounts", "flag", f, "volume", id)
		}
	}
	if ms.Mounter == MounterNFS {
		nfs := ms.NFS
		pub.NFS = &nfs
	}
	defer n.locks.lock("volume/" + id)()
	defer n.locks.lock("target/" + target)()

	if old, ok := n.pubs.get(target); ok {
		if !old.sameMount(pub) {
			return nil, errorf(codes.AlreadyExists, "target %s already has volume %s published (read-only %v, %s); unpublish it first",
				target, old.Volume, old.ReadOnly, old.Mounter)
		}
		st, err := stateOf(n.opts.MountInfo, old)
		if err != nil {
			return nil, statusError(err)
		}
		if st == mountLive {
			return &csi.NodePublishVolumeResponse{}, nil
		}
		n.log.Info("csi: republishing", "volume", id, "target", target, "was", st.String())
		if err := unmountAll(n.opts.MountInfo, target); err != nil {
			return nil, statusError(err)
		}
		pub.Published = old.Published
	}
	for _, other := range n.pubs.ofVolume(id) {
		if other.Target != target && (singleWriter(pub.Mode) || singleWriter(other.Mode)) {
			return nil, errorf(codes.FailedPrecondition, "volume %s is published at %s with access mode %s, which allows one publication per node",
				id, other.Target, csi.VolumeCapability_AccessMode_SINGLE_NODE_SINGLE_WRITER)
		}
	}
	_, statErr := os.Stat(target)
	if err := os.MkdirAll(target, 0o750); err != nil {
		return nil, errorf(codes.Internal, "create target: %v", err)
	}
	if err := n.pubs.put(pub); err != nil {
		return nil, statusError(err)
	}
	if err := n.mount(ctx, pub); err != nil {
		if rerr := n.pubs.remove(target); rerr != nil {
			n.log.Error("csi: forgetting a failed publication", "target", target, "err", rerr)
		}
		if os.IsNotExist(statErr) { // made above: leave nothing behind
			if rerr := os.Remove(target); rerr != nil {
				n.log.Error("csi: removing the target of a failed publication", "target", target, "err", rerr)
			}
		}
		return nil, err
	}
	n.log.Info("csi: volume published", "volume", id, "target", target, "mounter", pub.Mounter, "read_only", pub.ReadOnly)
	return &csi.NodePublishVolumeResponse{}, nil
}

// mount mounts what pub describes at its (existing, empty) target.
func (n *Node) mount(ctx context.Context, pub publication) error {
	switch pub.Mounter {
	case MounterNFS:
		m := newNFSMount(pub.Volume, *pub.NFS, pub.ReadOnly, pub.MountFlags, pub.Target)
		if err := n.opts.MountNFS(ctx, m); err != nil {
			return errorf(codes.Internal, "%v", err)
		}
		return nil
	default:
		if n.opts.FUSE == nil {
			return errorf(codes.FailedPrecondition, "no cairn daemon serves FUSE mounts on node %s (start the plugin with --daemon, or use %s=%s)", n.opts.NodeID, ParamMounter, MounterNFS)
		}
		if err := n.opts.FUSE.Publish(ctx, pub.Volume, pub.Target, pub.ReadOnly); err != nil {
			return statusError(err)
		}
		return nil
	}
}

// NodeUnpublishVolume unmounts the target and removes it. It succeeds
// whatever state the mount is in: live, dead (its FUSE server killed:
// detached lazily, like umount -l), or already gone.
func (n *Node) NodeUnpublishVolume(ctx context.Context, req *csi.NodeUnpublishVolumeRequest) (*csi.NodeUnpublishVolumeResponse, error) {
	id, target := req.GetVolumeId(), req.GetTargetPath()
	if id == "" {
		return nil, missing("volume_id")
	}
	if target == "" {
		return nil, missing("target_path")
	}
	defer n.locks.lock("volume/" + id)()
	defer n.locks.lock("target/" + target)()
	if pub, ok := n.pubs.get(target); ok && pub.Volume != id {
		return nil, errorf(codes.NotFound, "volume %s is not published at %s (volume %s is)", id, target, pub.Volume)
	}
	if err := n.unmount(ctx, target); err != nil {
		return nil, statusError(err)
	}
	if err := os.Remove(target); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, errorf(codes.Internal, "remove target: %v", err)
	}
	if err := n.pubs.remove(target); err != nil {
		return nil, statusError(err)
	}
	n.log.Info("csi: volume unpublished", "volume", id, "target", target)
	return &csi.NodeUnpublishVolumeResponse{}, nil
}

// unmount unmounts target: through the publisher first when it holds the
// mount (so buffered writes are flushed), then whatever is left.
func (n *Node) unmount(ctx context.Context, target string) error {
	if pub, ok := n.pubs.get(target); ok && pub.Mounter == MounterFUSE && n.opts.FUSE != nil {
		if st, err := stateOf(n.opts.MountInfo, pub); err == nil && st == mountLive {
			err := n.opts.FUSE.Unpublish(ctx, target)
			if err != nil && !errors.Is(err, ErrNotFound) {
				n.log.Warn("csi: clean unmount failed, detaching", "target", target, "err", err)
			}
		}
	}
	return unmountAll(n.opts.MountInfo, target)
}

// NodeGetVolumeStats reports the bytes and inodes of a published volume
// (statfs of its target: the quota and usage for FUSE mounts).
func (n *Node) NodeGetVolumeStats(ctx context.Context, req *csi.NodeGetVolumeStatsRequest) (*csi.NodeGetVolumeStatsResponse, error) {
	id, p := req.GetVolumeId(), req.GetVolumePath()
	if id == "" {
		return nil, missing("volume_id")
	}
	if p == "" {
		return nil, missing("volume_path")
	}
	pub, ok := n.pubs.get(p)
	if !ok || pub.Volume != id {
		return nil, errorf(codes.NotFound, "volume %s is not published at %s", id, p)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, errorf(codes.NotFound, "volume path %s: %v", p, err)
		}
		return nil, errorf(codes.Internal, "statfs %s: %v", p, err)
	}
	bs := uint64(st.Bsize)
	return &csi.NodeGetVolumeStatsResponse{Usage: []*csi.VolumeUsage{
		{Unit: csi.VolumeUsage_BYTES, Total: int64(st.Blocks * bs), Available: int64(st.Bavail * bs), Used: int64((st.Blocks - st.Bfree) * bs)},
		{Unit: csi.VolumeUsage_INODES, Total: int64(st.Files), Available: int64(st.Ffree), Used: int64(st.Files - st.Ffree)},
	}}, nil
}

// NodeGetVolumeHealth reports the publications of a volume on this node
// that are dead or missing.
func (n *Node) NodeGetVolumeHealth(ctx context.Context, req *csi.NodeGetVolumeHealthRequest) (*csi.NodeGetVolumeHealthResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, missing("volume_id")
	}
	h := &csi.VolumeHealth{VolumeId: req.GetVolumeId()}
	for _, pub := range n.pubs.ofVolume(req.GetVolumeId()) {
		if p := req.GetVolumePublishPath(); p != "" && p != pub.Target {
			continue
		}
		st, err := stateOf(n.opts.MountInfo, pub)
		reason := map[mountState]string{mountDead: reasonMountDead, mountAbsent: reasonMountMissing, mountOther: reasonMountMissing}[st]
		msg := fmt.Sprintf("publication at %s is %s", pub.Target, st)
		if err != nil {
			reason, msg = reasonMountFailing, err.Error()
		}
		if reason != "" {
			h.HealthStatuses = append(h.HealthStatuses, &csi.VolumeHealth_VolumeHealthEntry{
				Status: csi.VolumeHealthErrorType_INACCESSIBLE, Reason: reason, Message: msg})
		}
	}
	return &csi.NodeGetVolumeHealthResponse{VolumeHealth: h}, nil
}

// NodeGetStorageHealth reports whether this node can serve FUSE mounts.
func (n *Node) NodeGetStorageHealth(ctx context.Context, _ *csi.NodeGetStorageHealthRequest) (*csi.NodeGetStorageHealthResponse, error) {
	resp := &csi.NodeGetStorageHealthResponse{}
	if n.opts.FUSE != nil {
		if err := n.opts.FUSE.Check(ctx); err != nil {
			resp.BackendHealth = append(resp.BackendHealth, &csi.NodeGetStorageHealthResponse_StorageBackendHealth{
				Status: csi.StorageHealthErrorType_STORAGE_UNREACHABLE, Reason: "DaemonUnreachable", Message: err.Error()})
		}
	}
	return resp, nil
}
