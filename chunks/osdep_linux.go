package chunks

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
)

// fsTopDirFL is ext4's "top of directory hierarchy" inode flag (chattr
// +T). The Orlov block allocator spreads the subdirectories of such a
// directory across block groups instead of packing them near the parent,
// which keeps 65536 chunk directories from crowding one group.
const fsTopDirFL = 0x00020000

// setTopDir sets fsTopDirFL on dir. It is only an allocation hint, so
// failure never fails the caller: file systems without the flag (tmpfs,
// xfs, overlayfs) are expected and logged at debug level.
func setTopDir(dir string, log *slog.Logger) {
	f, err := os.Open(dir)
	if err != nil {
		log.Warn("chunks: set top-directory flag", "dir", dir, "err", err)
		return
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err == nil {
		cerr := rc.Control(func(fd uintptr) {
			var flags uint32
			flags, err = unix.IoctlGetUint32(int(fd), unix.FS_IOC_GETFLAGS)
			if err == nil && flags&fsTopDirFL == 0 {
				err = unix.IoctlSetPointerInt(int(fd), unix.FS_IOC_SETFLAGS, int(flags|fsTopDirFL))
			}
		})
		if err == nil {
			err = cerr
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, unix.ENOTTY), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EINVAL):
		log.Debug("chunks: file system has no top-directory flag", "dir", dir, "err", err)
	default:
		log.Warn("chunks: set top-directory flag", "dir", dir, "err", err)
	}
}

// lockDir takes an exclusive advisory lock on path, so that two processes
// never share a store: each would delete the other's files in tmp/. The
// lock lasts until the returned file is closed (or the process dies).
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: store is in use by another process or store", path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
