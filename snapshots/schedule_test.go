package snapshots

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestSchedule(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2026, 11, 26, 15, 59, 0, 0, time.UTC)}
	e := openEnv(t, t.TempDir(), Options{Now: clock.Now})
	e.vol("a")
	if err := e.m.SetSchedule(ctx, Schedule{Volume: "a", Every: time.Second, Keep: 2}); err == nil {
		t.Fatal("a schedule every second was accepted")
	}
	check(t, e.m.SetSchedule(ctx, Schedule{Volume: "a", Every: time.Hour, Keep: 3}))
	must[Snapshot](t)(e.m.Create(ctx, "a", "manual", CreateOptions{}))
	clock.add(time.Minute)
	names := func() []string {
		var out []string
		for _, s := range must[[]Snapshot](t)(e.m.List(ctx, "a")) {
			out = append(out, s.Name)
		}
		return out
	}
	check(t, e.m.RunDue(ctx))
	clock.add(30 * time.Minute)
	check(t, e.m.RunDue(ctx)) // not due yet
	if got := names(); len(got) != 2 || got[1] != "auto-2026-11-26T16-00-00Z" {
		t.Fatalf("after the first run: %v", got)
	}
	for range 5 {
		clock.add(30 * time.Minute)
		check(t, e.m.RunDue(ctx))
	}
	want := []string{"manual", "auto-2026-11-26T17-00-00Z", "auto-2026-11-26T18-00-00Z", "auto-2026-11-26T19-00-00Z"}
	if got := names(); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
		t.Fatalf("after 3.5 hours: %v, want %v", got, want)
	}
	scheds := must[[]Schedule](t)(e.m.Schedules(ctx))
	if len(scheds) != 1 || scheds[0].Keep != 3 || scheds[0].Every != time.Hour {
		t.Fatalf("schedules: %+v", scheds)
	}
	check(t, e.m.Unschedule(ctx, "a"))
	clock.add(5 * time.Hour)
	check(t, e.m.RunDue(ctx))
	if got := names(); len(got) != 4 {
		t.Fatalf("after unscheduling: %v", got)
	}
}
