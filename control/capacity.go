package control

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/chunks"
)

// GetCapacity reports the free and total bytes of the store.
func (v volumesService) GetCapacity(ctx context.Context, _ *cairnv1.GetCapacityRequest) (*cairnv1.GetCapacityResponse, error) {
	free, total, err := v.s.capacity(ctx)
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetCapacityResponse{FreeBytes: free, TotalBytes: total}, nil
}

// capacity is a cluster's storage capacity, or else the free and total
// bytes of the file system holding the data directory (the local chunks).
func (s *Server) capacity(ctx context.Context) (free, total uint64, err error) {
	if s.cfg.Space != nil {
		return s.cfg.Space.Capacity(ctx)
	}
	if s.cfg.DataDir == "" {
		return 0, 0, errors.New("capacity: the daemon knows no data directory")
	}
	var st unix.Statfs_t
	if err := unix.Statfs(s.cfg.DataDir, &st); err != nil {
		return 0, 0, fmt.Errorf("capacity: statfs %s: %w", s.cfg.DataDir, err)
	}
	bs := uint64(st.Bsize)
	return uint64(st.Bavail) * bs, uint64(st.Blocks) * bs, nil
}

// checkChunks fails while the chunk store cannot take chunks: a
// cluster's storage nodes unreachable, or the local chunk directory gone
// or not writable (a full or read-only disk shows there first).
func (s *Server) checkChunks(ctx context.Context) error {
	if s.cfg.Space != nil {
		return s.cfg.Space.Check(ctx)
	}
	// Verify is the local store when there is one (a gateway has none).
	if _, local := s.cfg.Verify.(*chunks.Local); !local || s.cfg.DataDir == "" {
		return nil
	}
	dir := filepath.Join(s.cfg.DataDir, "chunks")
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return fmt.Errorf("chunk store %s: %w", dir, err)
	}
	return nil
}
