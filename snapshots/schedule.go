package snapshots

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fs/meta"
)

// Schedule is a volume's automatic snapshot policy.
type Schedule struct {
	Volume string        `json:"volume"`
	Every  time.Duration `json:"every_ns"`
	// Keep is how many automatic snapshots to keep; older ones are
	// deleted. Snapshots taken by hand are never pruned.
	Keep     int    `json:"keep"`
	PreHook  string `json:"pre_hook,omitempty"`
	PostHook string `json:"post_hook,omitempty"`
}

// Scheduled snapshots are named AutoPrefix + their UTC time and carry
// the label AutoLabel=true.
const (
	AutoPrefix = "auto-"
	AutoLabel  = "cairn.snapshot/scheduled"
	autoFormat = "2006-01-02T15-04-05Z"
)

// SetSchedule stores the schedule of s.Volume, replacing any. Every must
// be at least a minute and Keep at least 1.
func (m *Manager) SetSchedule(ctx context.Context, s Schedule) error {
	if s.Every < time.Minute {
		return fmt.Errorf("schedule of %s: every %s: want at least 1m: %w", s.Volume, s.Every, ErrInvalid)
	}
	if s.Keep < 1 {
		return fmt.Errorf("schedule of %s: keep %d: want at least 1: %w", s.Volume, s.Keep, ErrInvalid)
	}
	if _, err := m.fs.VolumeInfo(ctx, s.Volume); err != nil {
		return err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return m.kv.Update(ctx, func(tx meta.Txn) error { return tx.Set(auxKey(auxSchedule, s.Volume), b) })
}

// Unschedule removes the schedule of volume; its snapshots stay.
func (m *Manager) Unschedule(ctx context.Context, volume string) error {
	return m.kv.Update(ctx, func(tx meta.Txn) error { return tx.Delete(auxKey(auxSchedule, volume)) })
}

// Schedules returns every schedule, ordered by volume.
func (m *Manager) Schedules(ctx context.Context) ([]Schedule, error) {
	var out []Schedule
	prefix := auxKey(auxSchedule, "")
	err := m.kv.View(ctx, func(r meta.Reader) error {
		out = out[:0]
		return r.Scan(prefix, meta.PrefixEnd(prefix), func(k, v []byte) error {
			var s Schedule
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("schedule %q: %v: %w", k[len(prefix):], err, ErrBadRecord)
			}
			out = append(out, s)
			return nil
		})
	})
	return out, err
}

// RunScheduler takes due snapshots and prunes old ones every
// SchedulerTick until ctx is done. `cairn server` runs it.
func (m *Manager) RunScheduler(ctx context.Context) error {
	t := time.NewTicker(m.opts.SchedulerTick)
	defer t.Stop()
	for {
		if err := m.RunDue(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("snapshot scheduler", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunDue takes the snapshots that are due now and prunes each scheduled
// volume to its Keep. An error with one volume does not stop the others.
func (m *Manager) RunDue(ctx context.Context) error {
	scheds, err := m.Schedules(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range scheds {
		if err := m.runSchedule(ctx, s); err != nil {
			errs = append(errs, fmt.Errorf("schedule of %s: %w", s.Volume, err))
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) runSchedule(ctx context.Context, s Schedule) error {
	snaps, err := m.List(ctx, s.Volume)
	if errors.Is(err, fs.ErrNoVolume) {
		return nil // deleted volume: its schedule waits for --off
	} else if err != nil {
		return err
	}
	var auto []Snapshot
	for _, snap := range snaps {
		if snap.Labels[AutoLabel] == "true" {
			auto = append(auto, snap)
		}
	}
	now := m.now()
	if len(auto) == 0 || !now.Before(auto[len(auto)-1].Created.Add(s.Every)) {
		name := AutoPrefix + now.Format(autoFormat)
		snap, err := m.Create(ctx, s.Volume, name, CreateOptions{
			PreHook: s.PreHook, PostHook: s.PostHook, Labels: map[string]string{AutoLabel: "true"}})
		switch {
		case errors.Is(err, ErrExists):
			return nil
		case err != nil && snap.Name == "":
			return err
		case err != nil:
			m.log.Warn("scheduled snapshot", "snapshot", snap.Ref(), "err", err)
		}
		auto = append(auto, snap)
	}
	for len(auto) > s.Keep {
		if err := m.Delete(ctx, auto[0].Ref()); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		m.log.Info("pruned scheduled snapshot", "snapshot", auto[0].Ref(), "keep", s.Keep)
		auto = auto[1:]
	}
	return nil
}
