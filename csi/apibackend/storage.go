package apibackend

import (
	"context"
	"errors"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// Capacity returns the store's free and total bytes.
func (b *Backend) Capacity(ctx context.Context) (free, total uint64, err error) {
	resp, err := do(ctx, b.d, func(ctx context.Context) (*cairnv1.GetCapacityResponse, error) {
		return b.d.api.Volumes.GetCapacity(ctx, &cairnv1.GetCapacityRequest{})
	})
	return resp.GetFreeBytes(), resp.GetTotalBytes(), err
}

// health asks the daemon whether its stores are usable.
func (b *Backend) health(ctx context.Context) (*cairnv1.CheckResponse, error) {
	return do(ctx, b.d, func(ctx context.Context) (*cairnv1.CheckResponse, error) {
		return b.d.api.Health.Check(ctx, &cairnv1.CheckRequest{})
	})
}

// Check returns nil if the daemon's metadata and chunk stores are usable.
func (b *Backend) Check(ctx context.Context) error {
	_, err := b.health(ctx)
	return err
}

// Redundancy returns why new data is under-replicated, as the daemon's
// health check says; nil if it is not, or if the check fails (Check
// reports that).
func (b *Backend) Redundancy(ctx context.Context) error {
	h, err := b.health(ctx)
	if err != nil || h.GetStatus() != "degraded" {
		return nil
	}
	return errors.New(h.GetDetail())
}
