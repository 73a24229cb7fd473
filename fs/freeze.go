package fs

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Freezer flushes and holds the writes of the volumes ids in every other
// client of the metadata store (other processes of a cluster), returning
// how to let them go on. Snapshot calls it through SnapshotOptions.
type Freezer func(ctx context.Context, ids []uint64) (thaw func(), err error)

// FreezeVolumes flushes this process's buffered writes to the volumes
// among ids and holds their new writes until thaw is called: what a
// snapshot cut by another process asks of each client of its volumes, so
// that every write acknowledged here before the cut is in it. Volumes not
// open here have nothing buffered and are skipped. The caller must call
// thaw, and soon: writers wait meanwhile.
func (f *FS) FreezeVolumes(ctx context.Context, ids []uint64) (thaw func(), err error) {
	f.mu.Lock()
	var vols []*Volume
	for _, v := range f.vols {
		if slices.Contains(ids, v.Info().ID) {
			vols = append(vols, v)
		}
	}
	f.mu.Unlock()
	// The order of Snapshot, so that the two never deadlock on gates.
	slices.SortFunc(vols, func(a, b *Volume) int { return compareIDs(a.Info().ID, b.Info().ID) })
	var (
		locked []*Volume
		once   sync.Once
	)
	thaw = func() {
		once.Do(func() {
			for _, v := range locked {
				v.gate.Unlock()
			}
		})
	}
	for _, v := range vols {
		if err := v.lockGate(ctx); err != nil {
			thaw()
			return nil, fmt.Errorf("freeze volume %q: %w", v.Info().Name, err)
		}
		locked = append(locked, v)
		if err := v.flushAll(ctx); err != nil {
			thaw()
			return nil, fmt.Errorf("freeze: flush volume %q: %w", v.Info().Name, err)
		}
	}
	return thaw, nil
}

func compareIDs(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// lockGate takes the volume's write gate exclusively, giving up when ctx
// ends: two processes cutting the same volume at once each wait for the
// other's freeze, and the first deadline breaks the tie. A lock that
// comes after giving up is released at once.
func (v *Volume) lockGate(ctx context.Context) error {
	if v.gate.TryLock() {
		return nil
	}
	got := make(chan struct{})
	go func() {
		v.gate.Lock()
		close(got)
	}()
	select {
	case <-got:
		return nil
	case <-ctx.Done():
		go func() {
			<-got
			v.gate.Unlock()
		}()
		return ctx.Err()
	}
}
