package chunks

import (
	"errors"
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
