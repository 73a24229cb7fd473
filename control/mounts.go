package control

import (
	"context"
	"fmt"
	"strings"
	"syscall"

	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/fs"
)

// Owners of mounts, as ListMounts reports them.
const (
	OwnerCLI    = "cli"
	OwnerServer = "server"
	OwnerCSI    = "csi"
)

// mountsService implements cairnv1.MountsServer.
type mountsService struct{ s *Server }

var _ cairnv1.MountsServer = mountsService{}

// Mount mounts a volume or a snapshot's view.
func (m mountsService) Mount(ctx context.Context, r *cairnv1.MountRequest) (*cairnv1.MountInfo, error) {
	owner := r.GetOwner()
	switch owner {
	case "":
		owner = OwnerCLI
	case OwnerCLI, OwnerCSI:
	default:
		return nil, fmt.Errorf("owner %q: want %q or %q: %w", owner, OwnerCLI, OwnerCSI, syscall.EINVAL)
	}
	e, err := m.s.MountVolume(ctx, r, owner)
	if err != nil {
		return nil, err
	}
	return mountProto(e), nil
}

// MountVolume mounts what r asks for on behalf of owner.
func (s *Server) MountVolume(ctx context.Context, r *cairnv1.MountRequest, owner string) (MountEntry, error) {
	if r.GetVolume() == "" {
		return MountEntry{}, required("volume")
	}
	if r.GetMountpoint() == "" {
		return MountEntry{}, required("mountpoint")
	}
	if r.GetSnapshot() != strings.Contains(r.GetVolume(), "@") {
		return MountEntry{}, fmt.Errorf("volume %q: a snapshot is VOLUME@NAME, with snapshot set: %w", r.GetVolume(), syscall.EINVAL)
	}
	opts := s.cfg.Mount
	opts.ReadOnly = r.GetReadOnly() || r.GetSnapshot()
	opts.Writeback = r.GetWriteback()
	opts.ShowSnapshots = r.GetShowSnapshots()
	opts.AttrTimeout = r.GetAttrTimeout().AsDuration()
	opts.EntryTimeout = r.GetEntryTimeout().AsDuration()
	opts.Debug = opts.Debug || r.GetDebug()
	opts.Sync = s.cfg.FS.Sync
	if opts.Logger == nil {
		opts.Logger = s.log
	}
	var vol *fs.Volume
	var err error
	if r.GetSnapshot() {
		vol, err = s.views.OpenRef(ctx, r.GetVolume())
	} else {
		vol, err = s.cfg.FS.OpenVolume(ctx, r.GetVolume())
		opts.Snapshots = s.views.Volume(r.GetVolume())
	}
	if err != nil {
		return MountEntry{}, err
	}
	e := MountEntry{Volume: r.GetVolume(), Mountpoint: r.GetMountpoint(), Owner: owner,
		ReadOnly: opts.ReadOnly || vol.Info().ReadOnly, Snapshot: r.GetSnapshot()}
	return s.mounts.add(vol, e, opts)
}

// Unmount unmounts a mount of the daemon.
func (m mountsService) Unmount(ctx context.Context, r *cairnv1.UnmountRequest) (*cairnv1.UnmountResponse, error) {
	if r.GetMountpoint() == "" {
		return nil, required("mountpoint")
	}
	if err := m.s.mounts.remove(ctx, r.GetMountpoint(), r.GetLazy()); err != nil {
		return nil, err
	}
	return &cairnv1.UnmountResponse{}, nil
}

// ListMounts lists the mounts and the NFS clients.
func (m mountsService) ListMounts(context.Context, *cairnv1.ListMountsRequest) (*cairnv1.ListMountsResponse, error) {
	out := &cairnv1.ListMountsResponse{Mounts: []*cairnv1.MountInfo{}, NfsClients: []*cairnv1.NFSClient{}}
	for _, e := range m.s.mounts.list() {
		out.Mounts = append(out.Mounts, mountProto(e))
	}
	if m.s.cfg.NFS != nil {
		for _, c := range m.s.cfg.NFS.Clients() {
			out.NfsClients = append(out.NfsClients, &cairnv1.NFSClient{Address: c.Address, Volume: c.Volume,
				LastSeen: timestamppb.New(c.LastSeen)})
		}
	}
	return out, nil
}

func mountProto(e MountEntry) *cairnv1.MountInfo {
	return &cairnv1.MountInfo{Volume: e.Volume, Mountpoint: e.Mountpoint, ReadOnly: e.ReadOnly, Snapshot: e.Snapshot,
		Mounted: timestamppb.New(e.Mounted), Owner: e.Owner}
}
