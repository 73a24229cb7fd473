package control

import (
	"context"

	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/fs"
)

// CheckVolume reads the volume's statistics and root directory: what a
// mount needs first, so a volume that passes can be mounted.
func (h healthService) CheckVolume(ctx context.Context, r *cairnv1.CheckVolumeRequest) (*cairnv1.CheckVolumeResponse, error) {
	if r.GetName() == "" {
		return nil, required("name")
	}
	vol, err := h.s.cfg.FS.OpenVolume(ctx, r.GetName())
	if err != nil {
		return nil, err // ENOENT: NotFound
	}
	// Closing flushes what writers buffered; a failure there is theirs.
	defer vol.Close(context.WithoutCancel(ctx))
	if _, err := vol.StatFS(ctx); err != nil {
		return nil, errorf(codes.Unavailable, "volume %s: statistics: %v", r.GetName(), err)
	}
	if _, err := vol.GetAttr(ctx, fs.RootIno); err != nil {
		return nil, errorf(codes.Unavailable, "volume %s: root directory: %v", r.GetName(), err)
	}
	return &cairnv1.CheckVolumeResponse{}, nil
}
