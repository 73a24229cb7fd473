package control

import (
	"context"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/snapshots"
)

// SetSchedule stores a volume's automatic snapshot schedule; the daemon's
// scheduler takes the snapshots and runs their hooks.
func (v snapshotsService) SetSchedule(ctx context.Context, r *cairnv1.SetScheduleRequest) (*cairnv1.SetScheduleResponse, error) {
	p := r.GetSchedule()
	if p == nil {
		return nil, required("schedule")
	}
	if p.GetVolume() == "" {
		return nil, required("schedule.volume")
	}
	if err := fs.CheckVolumeName(p.GetVolume()); err != nil {
		return nil, err
	}
	s := snapshots.Schedule{Volume: p.GetVolume(), Every: p.GetEvery().AsDuration(), Keep: int(p.GetKeep()),
		PreHook: p.GetPreHook(), PostHook: p.GetPostHook()}
	if err := v.s.cfg.Snapshots.SetSchedule(ctx, s); err != nil {
		return nil, err
	}
	return &cairnv1.SetScheduleResponse{}, nil
}

// ListSchedules lists every schedule, ordered by volume.
func (v snapshotsService) ListSchedules(ctx context.Context, _ *cairnv1.ListSchedulesRequest) (*cairnv1.ListSchedulesResponse, error) {
	scheds, err := v.s.cfg.Snapshots.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	out := &cairnv1.ListSchedulesResponse{Schedules: []*cairnv1.Schedule{}}
	for _, s := range scheds {
		out.Schedules = append(out.Schedules, scheduleProto(s))
	}
	return out, nil
}

// RemoveSchedule removes a volume's schedule (its snapshots stay). A
// volume without one is NotFound, so a typo does not pass for success.
// The volume itself may be gone: its schedule waits for removal.
func (v snapshotsService) RemoveSchedule(ctx context.Context, r *cairnv1.RemoveScheduleRequest) (*cairnv1.RemoveScheduleResponse, error) {
	if r.GetVolume() == "" {
		return nil, required("volume")
	}
	m := v.s.cfg.Snapshots
	scheds, err := m.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(scheds, func(s snapshots.Schedule) bool { return s.Volume == r.GetVolume() }) {
		return nil, errorf(codes.NotFound, "volume %s has no snapshot schedule", r.GetVolume())
	}
	if err := m.Unschedule(ctx, r.GetVolume()); err != nil {
		return nil, err
	}
	return &cairnv1.RemoveScheduleResponse{}, nil
}

// scheduleProto is the API form of a schedule.
func scheduleProto(s snapshots.Schedule) *cairnv1.Schedule {
	return &cairnv1.Schedule{Volume: s.Volume, Every: durationpb.New(s.Every), Keep: int32(s.Keep),
		PreHook: s.PreHook, PostHook: s.PostHook}
}
