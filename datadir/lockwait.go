package datadir

import (
	"errors"
	"fmt"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs/meta/badgerkv"
)

// DefaultLockWait is how long Open waits, by default, for another process
// to release the data directory: a stopping cairn closes its stores in
// well under a second, but a restart must not race it.
const DefaultLockWait = 10 * time.Second

// Bounds of the delay between two tries at the locks: short enough that a
// restart follows its predecessor's exit closely, long enough to cost
// nothing while waiting.
const (
	minLockRetry = 10 * time.Millisecond
	maxLockRetry = 200 * time.Millisecond
)

// inUse reports whether err means another process holds a lock that Open
// needs, so that trying again later may succeed.
func inUse(err error) bool {
	return errors.Is(err, badgerkv.ErrInUse) || errors.Is(err, chunks.ErrInUse)
}

// lockWait is opts.LockWait with the default applied; 0 means no waiting.
func lockWait(opts Options) time.Duration {
	switch {
	case opts.LockWait == 0:
		return DefaultLockWait
	case opts.LockWait < 0:
		return 0
	}
	return opts.LockWait
}

// waitUnlocked calls open until it does not fail for a lock held by
// another process, or until opts.LockWait has passed: a process that was
// just told to stop still holds the locks while it closes its stores. It
// logs once when it starts waiting, naming the holder by owner (which may
// be nil), and once when the wait is over.
func waitUnlocked(dir string, opts Options, owner func() int, open func() error) error {
	wait := lockWait(opts)
	start := time.Now()
	delay := minLockRetry
	for try := 0; ; try++ {
		err := open()
		if !inUse(err) {
			if try > 0 && err == nil {
				opts.Logger.Info("data directory released", "dir", dir, "waited", time.Since(start).Round(time.Millisecond))
			}
			return err
		}
		left := wait - time.Since(start)
		if left <= 0 {
			if wait == 0 {
				return err
			}
			return fmt.Errorf("%w; gave up after waiting %s", err, wait)
		}
		if try == 0 {
			opts.Logger.Warn(fmt.Sprintf("data directory %s is in use by %s; waiting up to %s for it to stop",
				dir, holder(owner), wait), "dir", dir)
		}
		time.Sleep(min(delay, left))
		delay = min(2*delay, maxLockRetry)
	}
}

// holder names the process that holds a lock, by the pid owner returns
// (0: unknown). Only the metadata store records one.
func holder(owner func() int) string {
	if owner != nil {
		if pid := owner(); pid != 0 {
			return fmt.Sprintf("cairn pid %d", pid)
		}
	}
	return "another cairn process"
}
