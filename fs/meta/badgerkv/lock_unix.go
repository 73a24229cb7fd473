//go:build unix

package badgerkv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// lockName is the file, inside the data directory, that the owning process
// holds an exclusive flock on. It is never removed: removing it would let a
// second process lock a fresh file while the first still holds the old one.
const lockName = "cairn.lock"

// lockDir creates dir if needed and locks it for this process. The returned
// func releases the lock.
func lockDir(dir string) (func() error, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("badgerkv: %w", err)
	}
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("badgerkv: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %s is %w%s", dir, ErrInUse, owner(path))
		}
		return nil, fmt.Errorf("badgerkv: lock %s: %w", path, err)
	}
	// Record the owner for the error message above; best effort.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f.Close, nil
}

// owner describes the process recorded in the lock file, if any.
func owner(path string) string {
	if pid := ownerPID(path); pid != 0 {
		return fmt.Sprintf(" (pid %d)", pid)
	}
	return ""
}

// Owner returns the pid of the process that last locked the store in dir,
// or 0 if none is recorded: what a caller waiting for the store names. The
// process may have exited since.
func Owner(dir string) int { return ownerPID(filepath.Join(dir, lockName)) }

func ownerPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
