package control

import (
	"context"
	"os"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// healthService implements cairnv1.HealthServer.
type healthService struct{ s *Server }

var _ cairnv1.HealthServer = healthService{}

// Check reports whether the stores answer.
func (h healthService) Check(ctx context.Context, _ *cairnv1.CheckRequest) (*cairnv1.CheckResponse, error) {
	if _, err := h.s.cfg.FS.ListVolumes(ctx); err != nil {
		return nil, errorf(codes.Unavailable, "metadata store: %v", err)
	}
	if err := h.s.checkChunks(ctx); err != nil {
		return nil, errorf(codes.Unavailable, "chunk storage: %v", err)
	}
	if sp := h.s.cfg.Space; sp != nil {
		if err := sp.Redundancy(ctx); err != nil {
			return &cairnv1.CheckResponse{Status: "degraded", Detail: err.Error()}, nil
		}
	}
	return &cairnv1.CheckResponse{Status: "ok"}, nil
}

// Version describes the daemon.
func (h healthService) Version(context.Context, *cairnv1.VersionRequest) (*cairnv1.VersionResponse, error) {
	c := h.s.cfg
	return &cairnv1.VersionResponse{Version: c.Version, Api: APIName, Pid: int32(os.Getpid()), Data: c.DataDir,
		Meta: c.Meta, Started: timestamppb.New(h.s.started), Cluster: c.Cluster != nil || c.Space != nil, Dashboard: c.Dashboard}, nil
}
