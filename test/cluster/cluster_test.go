//go:build dockercluster

package cluster

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Timings of the scenarios. compose.test.yml sets the grace period to
// 15 s: a node down for longer leaves the placement set (R drops to 2)
// and comes back into it.
const (
	downFor      = 20 * time.Second // docker kill .. docker start
	partitionFor = 40 * time.Second // one storage node cut off
	cutOffFor    = 45 * time.Second // the gateway cut off
	rejoinWithin = 2 * time.Minute  // membership after a start or reconnect
	healWithin   = 2 * time.Minute  // rejoined .. healed
	writerBudget = 5 * time.Minute  // a writer's hard limit
	warmup       = 20               // COMMITs acknowledged before a fault
)

// written is a probe file and its highest acknowledged record.
type written struct {
	file  string
	acked int64
}

// TestCluster runs the scenarios of the package comment on one cluster.
func TestCluster(t *testing.T) {
	s := newStack(t)
	upStart := time.Now()
	s.up()
	t.Logf("compose up: %v", time.Since(upStart).Round(100*time.Millisecond))
	if !t.Run("bring-up", func(t *testing.T) { s.bringUp(t, upStart) }) {
		t.FailNow()
	}
	var files []written
	for _, sc := range []struct {
		name string
		fn   func(t *testing.T) written
	}{
		{"kill", s.killNode},
		{"partition-storage", s.partitionStorage},
		{"partition-gateway", s.partitionGateway},
		{"rolling-restart", s.rollingRestart},
	} {
		t.Run(sc.name, func(t *testing.T) {
			start := time.Now()
			if _, err := waitFor(rejoinWithin, func() error { return s.allAlive(len(allNodes)) }); err != nil {
				t.Fatalf("cluster not whole before the scenario: %v", err)
			}
			f := sc.fn(t)
			if f.file != "" {
				files = append(files, f)
			}
			t.Logf("%s took %v", sc.name, time.Since(start).Round(time.Second))
		})
	}
	t.Run("final-verify", func(t *testing.T) {
		// Restarted, the gateway holds no cached data: what it reads
		// comes from the storage nodes.
		if err := s.restart("gateway"); err != nil {
			t.Fatal(err)
		}
		if _, err := waitFor(rejoinWithin, func() error { return s.allAlive(len(allNodes)) }); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			s.verify(t, f.file, f)
		}
	})
	t.Logf("suite: %v from compose up", time.Since(upStart).Round(time.Second))
}

// check runs one assertion as a named subtest, so that a failure names
// the property that broke.
func check(t *testing.T, name string, fn func(t *testing.T)) { t.Run(name, fn) }

// bringUp waits until every node sees four alive members and the status
// is healthy.
func (s *stack) bringUp(t *testing.T, upStart time.Time) {
	d, err := waitFor(2*time.Minute, func() error {
		_, err := s.healed(upStart)
		return err
	})
	if err != nil {
		t.Fatalf("cluster not healthy: %v", err)
	}
	t.Logf("4 alive members on every node and a healthy status %v after the containers started", d.Round(100*time.Millisecond))
}

// killNode kills node2 while writing, starts it again, and checks that
// writes went on and the cluster healed.
func (s *stack) killNode(t *testing.T) written {
	w := s.startWriter(t, "kill.dat", writerBudget)
	if err := w.waitAcks(warmup, time.Minute); err != nil {
		t.Fatal(err)
	}
	copied, degraded := s.repairCopies(t), s.gatewayPuts("degraded")
	killAt := time.Now()
	if err := s.kill("node2"); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s killed node2 at record %d; down for %v", clock(killAt), w.acked(), downFor)
	time.Sleep(downFor)
	startAt := time.Now()
	if err := s.start("node2"); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s started node2", clock(startAt))
	rejoin, err := waitFor(rejoinWithin, func() error { return s.allAlive(len(allNodes)) })
	if err != nil {
		t.Fatalf("node2 did not rejoin: %v", err)
	}
	if err := w.waitAcks(warmup, time.Minute); err != nil {
		t.Error(err)
	}
	summary := w.stop()
	stopped := time.Now()
	win := w.between(killAt, startAt)
	t.Logf("node2 back in every view %v after docker start; writer: %s (%.0f records/s)", rejoin.Round(100*time.Millisecond), summary, w.rate())
	t.Logf("while node2 was down: %d COMMITs acknowledged, longest wait %v, errors %v; chunk writes acknowledged with 2 of 3 copies: %d",
		win.acks, win.maxGap.Round(10*time.Millisecond), win.errs, s.gatewayPuts("degraded")-degraded)
	check(t, "writes-go-on-while-down", func(t *testing.T) {
		if win.acks == 0 || win.lastAck.Before(startAt.Add(-5*time.Second)) {
			t.Errorf("with node2 down the writer stopped: %d COMMITs acknowledged, the last at %s (node2 started at %s)",
				win.acks, clock(win.lastAck), clock(startAt))
		}
	})
	check(t, "no-failed-writes", func(t *testing.T) {
		// From the kill until the writer stopped, node2's return included.
		if all := w.between(killAt, stopped); len(all.errs) > 0 {
			t.Errorf("R=3, write quorum 2, at most one node down: %v failed; first: %s", all.errs, strings.Join(w.errors(killAt, stopped, 3), "; "))
		}
	})
	s.checkHealed(t, stopped, copied)
	f := written{"kill.dat", w.acked()}
	s.verify(t, "acknowledged-records-intact", f)
	return f
}

// partitionStorage cuts node3 off the network while writing.
func (s *stack) partitionStorage(t *testing.T) written {
	w := s.startWriter(t, "partition-storage.dat", writerBudget)
	if err := w.waitAcks(warmup, time.Minute); err != nil {
		t.Fatal(err)
	}
	copied := s.repairCopies(t)
	cutAt := time.Now()
	if err := s.disconnect("node3"); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s disconnected node3 at record %d for %v", clock(cutAt), w.acked(), partitionFor)
	time.Sleep(partitionFor)
	backAt := time.Now()
	if err := s.connect("node3"); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s reconnected node3", clock(backAt))
	rejoin, err := waitFor(rejoinWithin, func() error { return s.allAlive(len(allNodes)) })
	check(t, "rejoins", func(t *testing.T) {
		if err != nil {
			t.Fatalf("node3 did not rejoin after docker network connect: %v", err)
		}
	})
	if err := w.waitAcks(warmup, time.Minute); err != nil {
		t.Error(err)
	}
	summary := w.stop()
	stopped := time.Now()
	win := w.between(cutAt, backAt)
	t.Logf("node3 back in every view %v after docker network connect; writer: %s", rejoin.Round(100*time.Millisecond), summary)
	t.Logf("while node3 was cut off: %d COMMITs acknowledged, longest wait %v, errors %v; after its return: errors %v",
		win.acks, win.maxGap.Round(10*time.Millisecond), win.errs, w.between(backAt, stopped).errs)
	check(t, "writes-go-on-while-cut-off", func(t *testing.T) {
		if win.acks == 0 || win.lastAck.Before(backAt.Add(-10*time.Second)) {
			t.Errorf("with node3 cut off the writer stopped: %d COMMITs acknowledged, the last at %s (reconnected at %s)",
				win.acks, clock(win.lastAck), clock(backAt))
		}
	})
	check(t, "no-failed-writes", func(t *testing.T) {
		// From the cut until the writer stopped, node3's return included.
		if all := w.between(cutAt, stopped); len(all.errs) > 0 {
			t.Errorf("R=3, write quorum 2, etcd quorum intact, at most one storage node cut off: %v failed (%s)",
				all.errs, strings.Join(w.errors(cutAt, stopped, 3), "; "))
		}
	})
	s.checkHealed(t, stopped, copied)
	f := written{"partition-storage.dat", w.acked()}
	s.verify(t, "acknowledged-records-intact", f)
	return f
}

// partitionGateway cuts the gateway off every storage node while writing.
func (s *stack) partitionGateway(t *testing.T) written {
	w := s.startWriter(t, "partition-gateway.dat", writerBudget)
	if err := w.waitAcks(warmup, time.Minute); err != nil {
		t.Fatal(err)
	}
	cutAt := time.Now()
	if err := s.disconnect("gateway"); err != nil {
		t.Fatal(err)
	}
	cut := time.Now() // from here no COMMIT can reach a replica
	before := w.acked()
	t.Logf("%s disconnected the gateway at record %d for %v", clock(cutAt), before, cutOffFor)
	time.Sleep(cutOffFor)
	backAt := time.Now()
	if err := s.connect("gateway"); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s reconnected the gateway", clock(backAt))
	var resumed time.Duration
	_, resumeErr := waitFor(rejoinWithin, func() error {
		if win := w.between(backAt, time.Now()); !win.firstSent.IsZero() {
			resumed = win.firstSent.Sub(backAt)
			return nil
		}
		return errors.New("no COMMIT sent after the reconnection acknowledged yet")
	})
	if resumeErr == nil {
		if err := w.waitAcks(warmup, time.Minute); err != nil {
			t.Error(err)
		}
	}
	summary := w.stop()
	win := w.between(cut, backAt)
	all := w.between(cutAt, time.Now())
	t.Logf("writer: %s", summary)
	t.Logf("while cut off: %d COMMITs acknowledged, failures %v (first %v after the cut); after reconnecting: failures %v, first acknowledged COMMIT sent %v after",
		win.acks, win.errs, sinceOrNever(win.firstErr, cut), all.errs, resumed.Round(100*time.Millisecond))
	for _, e := range w.errors(cutAt, time.Now(), 4) {
		t.Logf("  %s", e)
	}
	check(t, "nothing-acknowledged-while-cut-off", func(t *testing.T) {
		if win.acks > 0 {
			t.Errorf("%d COMMITs sent after the gateway was cut off were acknowledged before it was reconnected", win.acks)
		}
	})
	check(t, "commits-fail-while-cut-off", func(t *testing.T) {
		if serverErrors(win.errs) == 0 {
			t.Errorf("for %v no WRITE or COMMIT failed: the writer waited (errors %v) instead of getting EIO", cutOffFor, win.errs)
		}
	})
	check(t, "failures-are-EIO", func(t *testing.T) {
		for kind := range all.errs {
			if isStatus(kind) && kind != "NFS3ERR_IO" {
				t.Errorf("writes that could not reach their replicas failed with %s, want NFS3ERR_IO (EIO): %v", kind, all.errs)
				return
			}
		}
	})
	check(t, "resumes-by-itself", func(t *testing.T) {
		if resumeErr != nil {
			t.Errorf("writes did not resume after the gateway was reconnected: %v", resumeErr)
		}
	})
	s.checkHealed(t, time.Now(), -1)
	f := written{"partition-gateway.dat", w.acked()}
	s.verify(t, "acknowledged-records-intact", f)
	return f
}

// serverErrors counts the failures the gateway answered: not the
// probe's own timeouts, nor COMMITs answered with a new verifier (the
// gateway dropped unstable writes and asks for them again).
func serverErrors(errs map[string]int) int {
	n := 0
	for kind, c := range errs {
		if isStatus(kind) {
			n += c
		}
	}
	return n
}

// isStatus reports whether a probe error kind is an NFS3ERR_* status.
func isStatus(kind string) bool { return strings.HasPrefix(kind, "NFS3ERR_") }

// clock formats a time of day for the logs (UTC, as the containers log).
func clock(t time.Time) string { return t.UTC().Format("15:04:05.000") }

func sinceOrNever(t, from time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Sub(from).Round(100 * time.Millisecond).String()
}

// rollingRestart restarts node1..3, one at a time, while writing.
func (s *stack) rollingRestart(t *testing.T) written {
	w := s.startWriter(t, "rolling.dat", writerBudget)
	if err := w.waitAcks(warmup, time.Minute); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for _, n := range storageNodes {
		t0 := time.Now()
		t.Logf("%s restarting %s", clock(t0), n)
		if err := s.restart(n); err != nil {
			t.Fatal(err)
		}
		restarted := time.Since(t0)
		rejoin, err := waitFor(rejoinWithin, func() error { return s.allAlive(len(allNodes)) })
		if err != nil {
			t.Fatalf("%s did not rejoin after its restart: %v", n, err)
		}
		progress := w.waitAcks(warmup, time.Minute)
		win := w.between(t0, time.Now())
		t.Logf("%s: docker restart %v, in every view %v later; longest wait of the writer %v, failures %v",
			n, restarted.Round(100*time.Millisecond), rejoin.Round(100*time.Millisecond), win.maxGap.Round(10*time.Millisecond), win.errs)
		check(t, "writes-go-on-after-"+n, func(t *testing.T) {
			if progress != nil {
				t.Error(progress)
			}
		})
	}
	summary := w.stop()
	stopped := time.Now()
	win := w.between(start, stopped)
	t.Logf("writer: %s; over the whole restart: longest wait %v, failures %v", summary, win.maxGap.Round(10*time.Millisecond), win.errs)
	for _, e := range w.errors(start, stopped, 4) {
		t.Logf("  %s", e)
	}
	s.checkHealed(t, stopped, -1)
	f := written{"rolling.dat", w.acked()}
	s.verify(t, "acknowledged-records-intact", f)
	return f
}

// checkHealed waits until the cluster has healed since t. With copied
// >= 0 (the nodes' repair copies before the fault), the repair loops
// must have copied chunks since: a node that missed writes was refilled.
func (s *stack) checkHealed(t *testing.T, since time.Time, copied int64) {
	check(t, "heals", func(t *testing.T) {
		var h heal
		d, err := waitFor(healWithin, func() error {
			var err error
			h, err = s.healed(since)
			return err
		})
		if err != nil {
			t.Fatalf("the cluster did not heal by itself: %v", err)
		}
		t.Logf("healed %v after the writer stopped: %d chunks on each node, %d repair copies since the nodes started",
			d.Round(100*time.Millisecond), h.chunks, h.copied)
		if copied >= 0 && h.copied <= copied {
			t.Errorf("the repair loops copied nothing (%d copies before the fault, %d now): the node that missed writes was not refilled", copied, h.copied)
		}
	})
}

// verify reads f back through the gateway, retrying while reads fail,
// as the check name.
func (s *stack) verify(t *testing.T, name string, f written) {
	check(t, name, func(t *testing.T) {
		if f.acked < 0 {
			t.Fatalf("%s: nothing was acknowledged", f.file)
		}
		var out string
		d, err := waitFor(time.Minute, func() error {
			var err error
			out, err = s.exec(3*time.Minute, "gateway", "/probe", "verify", "-file", f.file, "-acked", fmt.Sprint(f.acked))
			var ex *exec.ExitError
			if errors.As(err, &ex) && ex.ExitCode() == 1 {
				return nil // a verdict: lost or damaged records
			}
			return err
		})
		out = strings.TrimSpace(out)
		switch {
		case err != nil:
			t.Fatalf("%s: could not read it back: %v", f.file, err)
		case !strings.HasPrefix(out, "verify ok"):
			t.Fatalf("ACKNOWLEDGED DATA LOST: %s", out)
		}
		t.Logf("%s (%v)", out, d.Round(100*time.Millisecond))
	})
}
