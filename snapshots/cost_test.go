package snapshots

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/fs"
)

// buildVolume creates volume name with files small files, 100 per
// directory, written by two goroutines.
func buildVolume(t testing.TB, e *env, name string, files int) *fs.Volume {
	t.Helper()
	v := e.vol(name)
	dirs := max(files/100, 1)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := w; d < dirs; d += 2 {
				dir := mkdir(t, v, fs.RootIno, fmt.Sprintf("d%04d", d))
				for f := 0; f < min(100, files); f++ {
					writeFile(t, v, dir, fmt.Sprintf("f%03d", f), fmt.Appendf(nil, "%s/d%04d/f%03d\n", name, d, f), 0)
				}
			}
		}()
	}
	wg.Wait()
	return v
}

// changeFiles rewrites n files spread over the directories.
func changeFiles(t testing.TB, v *fs.Volume, files, n int, round int) {
	t.Helper()
	dirs := max(files/100, 1)
	for i := range n {
		p := fmt.Sprintf("d%04d/f%03d", i*dirs/n, (i*7+round)%min(100, files))
		writeAt(t, v, lookup(t, v, p), fmt.Appendf(nil, "changed %d\n", round), 0)
	}
}

func timed(fn func()) time.Duration {
	start := time.Now()
	fn()
	return time.Since(start)
}

// The cost of a snapshot follows what changed: after 10 of 20,000 files
// (10,000 under the race detector) change, the second snapshot is at
// least 20 times faster than the first. Clone and restore take the same
// time for 100 and 20,000 files. (BenchmarkSnapshotCost runs the
// 100,000-file version.)
func TestSnapshotCost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 20,000-file volume")
	}
	ctx := context.Background()
	start := time.Now()
	e := newEnv(t)
	t.Cleanup(func() { t.Logf("%v", time.Since(start)) })
	files := 20000
	if raceEnabled {
		files = 10000
	}
	var big *fs.Volume
	build := timed(func() { big = buildVolume(t, e, "big", files) })
	t.Logf("built %d files in %v", files, build)
	first := timed(func() { must[Snapshot](t)(e.m.Create(ctx, "big", "s1", CreateOptions{})) })
	changeFiles(t, big, files, 10, 1)
	second := timed(func() { must[Snapshot](t)(e.m.Create(ctx, "big", "s2", CreateOptions{})) })
	t.Logf("%d files: first snapshot %v, second (10 files changed) %v: %.0fx", files, first, second, float64(first)/float64(second))
	if first < 20*second {
		t.Errorf("second snapshot took %v, more than 1/20 of the first (%v)", second, first)
	}

	small := buildVolume(t, e, "small", 100)
	must[Snapshot](t)(e.m.Create(ctx, "small", "s1", CreateOptions{}))
	e.closeVol(big)
	e.closeVol(small)
	best := func(fn func(i int)) time.Duration {
		d := time.Hour
		for i := range 3 {
			d = min(d, timed(func() { fn(i) }))
		}
		return d
	}
	cloneSmall := best(func(i int) { must[fs.VolumeInfo](t)(e.m.Clone(ctx, "small@s1", fmt.Sprintf("cs%d", i))) })
	cloneBig := best(func(i int) { must[fs.VolumeInfo](t)(e.m.Clone(ctx, "big@s1", fmt.Sprintf("cb%d", i))) })
	restoreSmall := best(func(int) { must[fs.VolumeInfo](t)(e.m.Restore(ctx, "small", "s1")) })
	restoreBig := best(func(int) { must[fs.VolumeInfo](t)(e.m.Restore(ctx, "big", "s1")) })
	t.Logf("%v", time.Since(start))
	t.Logf("clone: %v (100 files) vs %v (%d files); restore: %v vs %v", cloneSmall, cloneBig, files, restoreSmall, restoreBig)
	for _, c := range []struct {
		what       string
		small, big time.Duration
	}{{"clone", cloneSmall, cloneBig}, {"restore", restoreSmall, restoreBig}} {
		if c.big > 3*c.small+20*time.Millisecond {
			t.Errorf("%s of %d files took %v, of 100 files %v: not O(1)", c.what, files, c.big, c.small)
		}
	}
}

// BenchmarkSnapshotCost reports, for volumes of 20,000 and 100,000 small
// files, the first snapshot's time (first-ms) and, per op, a snapshot
// after 10 files changed; and the time to clone (clone-ms).
//
//	go test -run '^$' -bench SnapshotCost -benchtime 5x ./snapshots
func BenchmarkSnapshotCost(b *testing.B) {
	for _, files := range []int{20000, 100000} {
		b.Run(fmt.Sprintf("files=%d", files), func(b *testing.B) {
			ctx := context.Background()
			e := newEnv(b)
			v := buildVolume(b, e, "a", files)
			first := timed(func() { must[Snapshot](b)(e.m.Create(ctx, "a", "first", CreateOptions{})) })
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				changeFiles(b, v, files, 10, i)
				b.StartTimer()
				must[Snapshot](b)(e.m.Create(ctx, "a", fmt.Sprintf("s%d", i), CreateOptions{}))
			}
			b.StopTimer()
			clone := timed(func() { must[fs.VolumeInfo](b)(e.m.Clone(ctx, "a@first", "c")) })
			b.ReportMetric(float64(first.Microseconds())/1e3, "first-ms")
			b.ReportMetric(float64(clone.Microseconds())/1e3, "clone-ms")
		})
	}
}
