//go:build linux

package fusefs

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// Extended attribute and open-file steps of the differential test.

var xattrNames = []string{"user.a", "user.b", "user.c"}

func (df *differ) xattrName() string { return xattrNames[df.rnd.IntN(len(xattrNames))] }

func (df *differ) stepSetxattr() step {
	p, name := df.pick(), df.xattrName()
	val := fmt.Appendf(nil, "v%d", df.rnd.IntN(1000))
	flags := []int{0, 0, unix.XATTR_CREATE, unix.XATTR_REPLACE}[df.rnd.IntN(4)]
	return pathStep(fmt.Sprintf("setxattr %s %s=%s flags %d", p, name, val, flags), func(side int) outcome {
		return errOnly(unix.Setxattr(df.path(side, p), name, val, flags))
	}, p)
}

func (df *differ) stepGetxattr() step {
	p, name := df.pick(), df.xattrName()
	return pathStep(fmt.Sprintf("getxattr %s %s", p, name), func(side int) outcome {
		buf := make([]byte, 256)
		n, err := unix.Getxattr(df.path(side, p), name, buf)
		if err != nil {
			return errOnly(err)
		}
		return outcome{n: n, data: buf[:n]}
	})
}

func (df *differ) stepRemovexattr() step {
	p, name := df.pick(), df.xattrName()
	return pathStep(fmt.Sprintf("removexattr %s %s", p, name), func(side int) outcome {
		return errOnly(unix.Removexattr(df.path(side, p), name))
	}, p)
}

// maxFds bounds the file pairs kept open.
const maxFds = 6

var openFlags = []int{
	syscall.O_RDONLY, syscall.O_RDWR, syscall.O_WRONLY, syscall.O_RDWR | syscall.O_APPEND,
	syscall.O_RDWR | syscall.O_CREAT, syscall.O_WRONLY | syscall.O_TRUNC,
}

// stepReopen closes an open pair (if there are many) and opens a path on
// both sides, keeping the descriptors.
func (df *differ) stepReopen() step {
	if len(df.fds) >= maxFds || (len(df.fds) > 0 && df.rnd.IntN(3) == 0) {
		i := df.rnd.IntN(len(df.fds))
		p := df.fds[i]
		df.fds = append(df.fds[:i], df.fds[i+1:]...)
		return dataStep("close fd of "+p.path, func(side int) outcome {
			return errOnly(syscall.Close(p.fd[side]))
		}, p.path)
	}
	p, flags, m := df.pick(), openFlags[df.rnd.IntN(len(openFlags))], df.mode()
	var pair fdPair
	return nameStep(fmt.Sprintf("open %s flags %#x mode %o", p, flags, m), func(side int) outcome {
		fd, err := syscall.Open(df.path(side, p), flags, m)
		if err != nil {
			return errOnly(err)
		}
		pair.fd[side] = fd
		if side == 1 {
			df.fds = append(df.fds, fdPair{fd: pair.fd, path: p, flags: flags})
		}
		return outcome{}
	}, p)
}

// fdStep builds a step on a random open pair, or a no-op without one.
func (df *differ) fdStep(desc string, fn func(fd int) outcome) step {
	if len(df.fds) == 0 {
		return step{desc: "nothing open for " + desc, apply: func(int) outcome { return outcome{} }, fd: -1}
	}
	i := df.rnd.IntN(len(df.fds))
	p := df.fds[i]
	return step{
		desc:    fmt.Sprintf("%s on fd of %s (flags %#x)", desc, p.path, p.flags),
		apply:   func(side int) outcome { return fn(p.fd[side]) },
		touched: []string{p.path},
		content: true,
		fd:      i,
	}
}

func (df *differ) stepFdWrite() step {
	off, data := df.offset(), df.content(df.size())
	return df.fdStep(fmt.Sprintf("pwrite [%d,+%d)", off, len(data)), func(fd int) outcome {
		n, err := syscall.Pwrite(fd, data, off)
		return outcome{errno: errnoOf(err), n: n}
	})
}

func (df *differ) stepFdRead() step {
	off, n := df.offset(), df.size()
	return df.fdStep(fmt.Sprintf("pread [%d,+%d)", off, n), func(fd int) outcome {
		buf := make([]byte, n)
		k, err := syscall.Pread(fd, buf, off)
		if err != nil {
			return errOnly(err)
		}
		return outcome{n: k, data: buf[:k]}
	})
}

func (df *differ) stepFtruncate() step {
	size := df.offset()
	return df.fdStep(fmt.Sprintf("ftruncate %d", size), func(fd int) outcome {
		return errOnly(syscall.Ftruncate(fd, size))
	})
}

func (df *differ) stepFallocate() step {
	off, n := df.offset(), int64(df.size())+1
	mode := []uint32{0, unix.FALLOC_FL_KEEP_SIZE, unix.FALLOC_FL_KEEP_SIZE | unix.FALLOC_FL_PUNCH_HOLE}[df.rnd.IntN(3)]
	return df.fdStep(fmt.Sprintf("fallocate mode %d [%d,+%d)", mode, off, n), func(fd int) outcome {
		return errOnly(unix.Fallocate(fd, mode, off, n))
	})
}

func (df *differ) stepFsync() step {
	return df.fdStep("fsync", func(fd int) outcome { return errOnly(syscall.Fsync(fd)) })
}
