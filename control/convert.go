package control

import (
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/snapshots"
)

// volumeProto is the API form of a volume.
func volumeProto(info fs.VolumeInfo, u fs.Usage) *cairnv1.Volume {
	return &cairnv1.Volume{
		Id:        info.ID,
		Name:      info.Name,
		Created:   timestamppb.New(info.Created),
		Quota:     info.Quota,
		Compress:  info.Compress,
		Replicas:  int32(info.Replicas),
		ReadOnly:  info.ReadOnly,
		Labels:    info.Labels,
		UsedBytes: u.Bytes,
		Files:     u.Inodes,
	}
}

// snapshotProto is the API form of a snapshot record.
func snapshotProto(s snapshots.Snapshot) *cairnv1.Snapshot {
	p := &cairnv1.Snapshot{
		Name:     s.Name,
		Volume:   s.Volume,
		VolumeId: s.VolumeID,
		Created:  timestamppb.New(s.Created),
		Root:     s.Root.Node.String(),
		MaxIno:   uint64(s.MaxIno),
		Bytes:    s.Usage.Bytes,
		Files:    s.Usage.Inodes,
		Group:    s.Group,
		Labels:   s.Labels,
		Config:   volumeProto(fs.VolumeInfo{Name: s.Volume, VolumeConfig: s.Config}, fs.Usage{}),
	}
	p.Hooks = HookProtos(s.Hooks)
	if s.Received != nil {
		p.Received = timestamppb.New(*s.Received)
	}
	return p
}

// HookProtos is the API form of hook runs: of a record, or of the hooks a
// client ran around CreateSnapshot.
func HookProtos(hs []snapshots.HookRun) []*cairnv1.HookRun {
	var out []*cairnv1.HookRun
	for _, h := range hs {
		out = append(out, &cairnv1.HookRun{Phase: h.Phase, Command: h.Command, ExitCode: int32(h.ExitCode),
			Error: h.Error, Output: h.Output, Duration: durationpb.New(h.Duration)})
	}
	return out
}

// hookRun is the record of a hook run by a client.
func hookRun(h *cairnv1.HookRun) snapshots.HookRun {
	return snapshots.HookRun{Phase: h.GetPhase(), Command: h.GetCommand(), ExitCode: int(h.GetExitCode()),
		Error: h.GetError(), Output: h.GetOutput(), Duration: h.GetDuration().AsDuration()}
}
