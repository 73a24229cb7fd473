package host

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fusefs"
)

// fuseNode is the host's side of FUSE publishing: a CSI Node service
// whose NodePublishVolume serves the volume at the target in this
// process, and whose NodeUnpublishVolume unmounts it cleanly. The node
// plugin does everything else (records, dead mounts, NFS).
type fuseNode struct {
	csipb.UnimplementedNodeServer
	fs     *fs.FS
	opts   fusefs.Options
	nodeID string
	log    *slog.Logger

	mu     sync.Mutex
	mounts map[string]*fuseMount // by target
}

type fuseMount struct {
	volume   string
	readOnly bool
	srv      *fusefs.Server
	done     chan struct{} // closed once unmounted and released
}

func newFuseNode(fsys *fs.FS, opts fusefs.Options, nodeID string, log *slog.Logger) *fuseNode {
	return &fuseNode{fs: fsys, opts: opts, nodeID: nodeID, log: log, mounts: map[string]*fuseMount{}}
}

// NodeGetCapabilities: the host's node service has no optional RPCs.
func (n *fuseNode) NodeGetCapabilities(context.Context, *csipb.NodeGetCapabilitiesRequest) (*csipb.NodeGetCapabilitiesResponse, error) {
	return &csipb.NodeGetCapabilitiesResponse{}, nil
}

// NodeGetInfo names the host's node.
func (n *fuseNode) NodeGetInfo(context.Context, *csipb.NodeGetInfoRequest) (*csipb.NodeGetInfoResponse, error) {
	return &csipb.NodeGetInfoResponse{NodeId: n.nodeID}, nil
}

// NodePublishVolume mounts the volume at the target through FUSE.
func (n *fuseNode) NodePublishVolume(ctx context.Context, req *csipb.NodePublishVolumeRequest) (*csipb.NodePublishVolumeResponse, error) {
	name, target, ro := req.GetVolumeId(), req.GetTargetPath(), req.GetReadonly()
	if name == "" || target == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id and target_path are required")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if m := n.mounts[target]; m != nil {
		select {
		case <-m.done:
			// Unmounted from outside: mount again below.
		default:
			if m.volume == name && m.readOnly == ro {
				return &csipb.NodePublishVolumeResponse{}, nil
			}
			return nil, status.Errorf(codes.AlreadyExists, "%s already serves volume %s (read-only %v)", target, m.volume, m.readOnly)
		}
	}
	vol, err := n.fs.OpenVolume(ctx, name)
	if errors.Is(err, fs.ErrNoVolume) {
		return nil, status.Errorf(codes.NotFound, "volume %s: %v", name, err)
	} else if err != nil {
		return nil, status.Errorf(codes.Internal, "open volume %s: %v", name, err)
	}
	opts := n.opts
	opts.ReadOnly = ro
	opts.Sync = n.fs.Sync
	opts.Logger = n.log
	srv, err := fusefs.Mount(vol, target, opts)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "%v", errors.Join(err, vol.Close(ctx)))
	}
	m := &fuseMount{volume: name, readOnly: ro, srv: srv, done: make(chan struct{})}
	n.mounts[target] = m
	go func() {
		srv.Wait()
		if err := vol.Close(context.Background()); err != nil {
			n.log.Error("host: closing an unmounted volume", "volume", name, "err", err)
		}
		n.mu.Lock()
		if n.mounts[target] == m {
			delete(n.mounts, target)
		}
		n.mu.Unlock()
		close(m.done)
		n.log.Info("host: volume unmounted", "volume", name, "target", target)
	}()
	return &csipb.NodePublishVolumeResponse{}, nil
}

// NodeUnpublishVolume unmounts the target cleanly; NotFound if this host
// does not serve it.
func (n *fuseNode) NodeUnpublishVolume(ctx context.Context, req *csipb.NodeUnpublishVolumeRequest) (*csipb.NodeUnpublishVolumeResponse, error) {
	n.mu.Lock()
	m := n.mounts[req.GetTargetPath()]
	n.mu.Unlock()
	if m == nil {
		return nil, status.Errorf(codes.NotFound, "this host serves nothing at %s", req.GetTargetPath())
	}
	if err := m.srv.Unmount(); err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "%v", err)
	}
	select {
	case <-m.done:
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	return &csipb.NodeUnpublishVolumeResponse{}, nil
}

// unmountAll unmounts every volume, at shutdown.
func (n *fuseNode) unmountAll() error {
	n.mu.Lock()
	ms := make([]*fuseMount, 0, len(n.mounts))
	for _, m := range n.mounts {
		ms = append(ms, m)
	}
	n.mu.Unlock()
	var errs []error
	for _, m := range ms {
		if err := m.srv.Unmount(); err != nil {
			errs = append(errs, err)
			continue
		}
		select {
		case <-m.done:
		case <-time.After(30 * time.Second):
			errs = append(errs, errors.New("host: timed out waiting for an unmount"))
		}
	}
	return errors.Join(errs...)
}
