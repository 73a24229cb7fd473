package control

import (
	"context"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/snapshots"
)

// maintenanceService implements cairnv1.MaintenanceServer.
type maintenanceService struct{ s *Server }

var _ cairnv1.MaintenanceServer = maintenanceService{}

// GC collects the chunks nothing references, streaming progress and then
// the report. It runs beside the volumes' I/O: the grace period protects
// the chunks of writes not yet committed.
func (m maintenanceService) GC(r *cairnv1.GCRequest, stream grpc.ServerStreamingServer[cairnv1.GCResponse]) error {
	grace := snapshots.DefaultGrace
	if r.Grace != nil {
		grace = r.GetGrace().AsDuration()
	}
	if grace <= 0 {
		return errorf(codes.InvalidArgument, "grace %s: want a positive duration (chunks younger than it are kept)", grace)
	}
	prog := newProgressStream(func(p *cairnv1.Progress) error { return stream.Send(&cairnv1.GCResponse{Progress: p}) })
	rep, err := m.s.cfg.Snapshots.GC(stream.Context(), snapshots.GCOptions{
		Grace:    grace,
		DryRun:   r.GetDryRun(),
		Progress: func(p snapshots.GCProgress) { prog.update(p.Phase, p.Done, p.Total) },
	})
	if err != nil {
		return err
	}
	if err := prog.flush(); err != nil {
		return fmt.Errorf("gc progress: %w", err)
	}
	return stream.Send(&cairnv1.GCResponse{Report: gcReportProto(rep)})
}

// gcReportProto is the API form of a collection's report.
func gcReportProto(r snapshots.GCReport) *cairnv1.GCReport {
	return &cairnv1.GCReport{Snapshots: int64(r.Snapshots), Marked: int64(r.Marked), Scanned: r.Scanned,
		Young: r.Young, Pinned: r.Pinned, Swept: r.Swept, SweptBytes: r.SweptBytes, SweptStored: r.SweptStored,
		DryRun: r.DryRun, Duration: durationpb.New(r.Duration)}
}

// fsckPhase names the progress of fsck's one long phase.
const fsckPhase = "verify"

// Fsck checks every volume while they stay in use (each volume's metadata
// is read in one consistent transaction), then reads every chunk they
// reference through cfg.Verify, streaming progress and then the report.
// Repair rewrites metadata under the volumes' feet, so only a server
// with exclusive use of the data (no daemon) may do it.
func (m maintenanceService) Fsck(r *cairnv1.FsckRequest, stream grpc.ServerStreamingServer[cairnv1.FsckResponse]) error {
	if r.GetRepair() && !m.s.cfg.Exclusive {
		return errorf(codes.FailedPrecondition,
			"fsck --repair needs exclusive use of the data directory: stop the cairn daemon (pid %d) first", os.Getpid())
	}
	prog := newProgressStream(func(p *cairnv1.Progress) error { return stream.Send(&cairnv1.FsckResponse{Progress: p}) })
	opts := fs.FsckOptions{Repair: r.GetRepair()}
	if !r.GetMetadataOnly() && m.s.cfg.Verify != nil {
		opts.Chunks = m.s.cfg.Verify
		opts.Progress = func(done, total int) { prog.update(fsckPhase, int64(done), int64(total)) }
	}
	rep, err := m.s.cfg.FS.Fsck(stream.Context(), opts)
	if err != nil {
		return err
	}
	if err := prog.flush(); err != nil {
		return fmt.Errorf("fsck progress: %w", err)
	}
	return stream.Send(&cairnv1.FsckResponse{Report: fsckReportProto(rep)})
}

// fsckReportProto is the API form of a check's report.
func fsckReportProto(r fs.FsckReport) *cairnv1.FsckReport {
	out := &cairnv1.FsckReport{Volumes: int64(r.Volumes), Inodes: int64(r.Inodes), Extents: int64(r.Extents),
		Chunks: int64(r.Chunks), Problems: []*cairnv1.FsckProblem{}}
	for _, p := range r.Problems {
		out.Problems = append(out.Problems, &cairnv1.FsckProblem{Volume: p.Volume, Ino: uint64(p.Ino),
			What: p.What, Repaired: p.Repaired})
	}
	return out
}

// Stats adds up the volumes' usage and the chunk store's counters: the
// logical bytes against the chunks' (dedup) and against the disk's
// (compression).
func (m maintenanceService) Stats(ctx context.Context, _ *cairnv1.StatsRequest) (*cairnv1.StatsResponse, error) {
	infos, err := m.s.cfg.FS.ListVolumes(ctx)
	if err != nil {
		return nil, err
	}
	out := &cairnv1.StatsResponse{}
	for _, info := range infos {
		v, err := m.s.volume(ctx, info.Name)
		if errors.Is(err, fs.ErrNoVolume) {
			continue // deleted since the listing: the daemon is live
		}
		if err != nil {
			return nil, fmt.Errorf("stats of volume %s: %w", info.Name, err)
		}
		out.Volumes++
		out.Inodes += v.GetFiles()
		out.LogicalBytes += v.GetUsedBytes()
	}
	cs, err := m.s.cfg.Chunks.Stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("chunk store stats: %w", err)
	}
	out.Chunks, out.ChunkBytes, out.PhysicalBytes = cs.Chunks, uint64(cs.PlainBytes), uint64(cs.StoredBytes)
	if out.ChunkBytes > 0 {
		out.DedupRatio = float64(out.LogicalBytes) / float64(out.ChunkBytes)
	}
	if out.PhysicalBytes > 0 {
		out.CompressionRatio = float64(out.ChunkBytes) / float64(out.PhysicalBytes)
	}
	return out, nil
}
