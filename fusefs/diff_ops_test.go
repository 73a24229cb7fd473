//go:build linux

package fusefs

import (
	"fmt"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// diffPaths are the names the differential test works on; any of them
// may become a file, a directory or a symlink, or be missing.
var diffPaths = []string{
	"f0", "f1", "f2", "f3", "d0", "d1", "s0",
	"d0/f0", "d0/f1", "d0/d2", "d0/s1", "d0/d2/f0", "d0/d2/f1",
	"d1/f0", "d1/f1", "d1/d3", "d1/d3/f0",
}

// symlink targets: relative, without "..", so both sides resolve alike.
var diffTargets = []string{"f0", "f1", "d0", "d0/f1", "missing", "d2/f0"}

var diffModes = []uint32{0o644, 0o600, 0o755, 0o700, 0o666, 0o444, 0o4755, 0o2755, 0o1777, 0o2775, 0o000}

// opWeights lists the step generators and how often each runs.
var opWeights = []struct {
	weight int
	gen    func(df *differ) step
}{
	{10, (*differ).stepWrite}, {7, (*differ).stepCreate}, {6, (*differ).stepRead},
	{5, (*differ).stepTruncate}, {7, (*differ).stepRename}, {3, (*differ).stepLink},
	{5, (*differ).stepUnlink}, {5, (*differ).stepMkdir}, {4, (*differ).stepRmdir},
	{3, (*differ).stepSymlink}, {4, (*differ).stepChmod}, {4, (*differ).stepSetxattr},
	{2, (*differ).stepGetxattr}, {2, (*differ).stepRemovexattr}, {5, (*differ).stepReopen},
	{10, (*differ).stepFdWrite}, {5, (*differ).stepFdRead}, {3, (*differ).stepFtruncate},
	{2, (*differ).stepFallocate}, {1, (*differ).stepFsync}, {2, (*differ).stepReadlink},
}

var totalWeight = func() int {
	n := 0
	for _, o := range opWeights {
		n += o.weight
	}
	return n
}()

func (df *differ) randomStep() step {
	w := df.rnd.IntN(totalWeight)
	for _, o := range opWeights {
		if w < o.weight {
			return o.gen(df)
		}
		w -= o.weight
	}
	panic("unreachable")
}

func (df *differ) pick() string { return diffPaths[df.rnd.IntN(len(diffPaths))] }

// pickKind mostly picks a path whose name starts with kind ('f' files,
// 'd' directories), so that more operations succeed.
func (df *differ) pickKind(kind byte) string {
	for df.rnd.IntN(4) != 0 {
		if p := df.pick(); filepath.Base(p)[0] == kind {
			return p
		}
	}
	return df.pick()
}
func (df *differ) mode() uint32 { return diffModes[df.rnd.IntN(len(diffModes))] }
func errOnly(err error) outcome { return outcome{errno: errnoOf(err)} }

// pathStep is a step on paths that compares their state afterwards;
// dataStep also compares their contents, nameStep their directories.
func pathStep(desc string, apply func(int) outcome, paths ...string) step {
	return step{desc: desc, apply: apply, touched: paths, fd: -1}
}

func dataStep(desc string, apply func(int) outcome, paths ...string) step {
	s := pathStep(desc, apply, paths...)
	s.content = true
	return s
}

func nameStep(desc string, apply func(int) outcome, paths ...string) step {
	s := pathStep(desc, apply, paths...)
	s.parents = true
	return s
}

// size returns a random write or read length: mostly small, at times
// large enough for several content-defined chunks.
func (df *differ) size() int {
	switch r := df.rnd.IntN(100); {
	case r < 75:
		return df.rnd.IntN(8 << 10)
	case r < 98:
		return df.rnd.IntN(128 << 10)
	default:
		return df.rnd.IntN(2 << 20)
	}
}

// offset returns a random file offset or size, at times far past the
// end of the data.
func (df *differ) offset() int64 {
	switch r := df.rnd.IntN(100); {
	case r < 85:
		return df.rnd.Int64N(256 << 10)
	case r < 97:
		return df.rnd.Int64N(1 << 20)
	default:
		return df.rnd.Int64N(8 << 20)
	}
}

// content returns n random bytes; both sides get the same slice.
func (df *differ) content(n int) []byte {
	p := df.data[:n]
	for i := 0; i < n; i += 8 {
		v := df.rnd.Uint64()
		for j := i; j < min(i+8, n); j++ {
			p[j] = byte(v >> (8 * (j - i)))
		}
	}
	return p
}

func (df *differ) stepWrite() step {
	p, off, data := df.pickKind('f'), df.offset(), df.content(df.size())
	return dataStep(fmt.Sprintf("write %s [%d,+%d)", p, off, len(data)), func(side int) outcome {
		fd, err := syscall.Open(df.path(side, p), syscall.O_WRONLY, 0)
		if err != nil {
			return errOnly(err)
		}
		defer syscall.Close(fd)
		n, err := syscall.Pwrite(fd, data, off)
		return outcome{errno: errnoOf(err), n: n}
	}, p)
}

func (df *differ) stepCreate() step {
	p, m := df.pickKind('f'), df.mode()
	flags := syscall.O_CREAT | syscall.O_WRONLY
	if df.rnd.IntN(3) == 0 {
		flags |= syscall.O_EXCL
	}
	if df.rnd.IntN(3) == 0 {
		flags |= syscall.O_TRUNC
	}
	data := df.content(df.rnd.IntN(4 << 10))
	return dataStep(fmt.Sprintf("create %s flags %#x mode %o +%d", p, flags, m, len(data)), func(side int) outcome {
		fd, err := syscall.Open(df.path(side, p), flags, m)
		if err != nil {
			return errOnly(err)
		}
		defer syscall.Close(fd)
		n, err := syscall.Write(fd, data)
		return outcome{errno: errnoOf(err), n: n}
	}, p)
}

func (df *differ) stepRead() step {
	p, off, n := df.pickKind('f'), df.offset(), df.size()
	return pathStep(fmt.Sprintf("read %s [%d,+%d)", p, off, n), func(side int) outcome {
		fd, err := syscall.Open(df.path(side, p), syscall.O_RDONLY, 0)
		if err != nil {
			return errOnly(err)
		}
		defer syscall.Close(fd)
		buf := make([]byte, n)
		k, err := syscall.Pread(fd, buf, off)
		if err != nil {
			return errOnly(err)
		}
		return outcome{n: k, data: buf[:k]}
	})
}

func (df *differ) stepTruncate() step {
	p, size := df.pickKind('f'), df.offset()
	return dataStep(fmt.Sprintf("truncate %s %d", p, size), func(side int) outcome {
		return errOnly(syscall.Truncate(df.path(side, p), size))
	}, p)
}

func (df *differ) stepRename() step {
	from, to := df.pick(), df.pick()
	flags := []uint{0, 0, 0, unix.RENAME_NOREPLACE, unix.RENAME_EXCHANGE}[df.rnd.IntN(5)]
	return nameStep(fmt.Sprintf("rename %s %s flags %d", from, to, flags), func(side int) outcome {
		return errOnly(unix.Renameat2(unix.AT_FDCWD, df.path(side, from), unix.AT_FDCWD, df.path(side, to), flags))
	}, from, to)
}

func (df *differ) stepLink() step {
	from, to := df.pick(), df.pick()
	return nameStep(fmt.Sprintf("link %s %s", from, to), func(side int) outcome {
		return errOnly(syscall.Link(df.path(side, from), df.path(side, to)))
	}, from, to)
}

func (df *differ) stepUnlink() step {
	p := df.pick()
	return nameStep("unlink "+p, func(side int) outcome {
		return errOnly(syscall.Unlink(df.path(side, p)))
	}, p)
}

func (df *differ) stepMkdir() step {
	p, m := df.pickKind('d'), df.mode()
	return nameStep(fmt.Sprintf("mkdir %s %o", p, m), func(side int) outcome {
		return errOnly(syscall.Mkdir(df.path(side, p), m))
	}, p)
}

func (df *differ) stepRmdir() step {
	p := df.pickKind('d')
	return nameStep("rmdir "+p, func(side int) outcome {
		return errOnly(syscall.Rmdir(df.path(side, p)))
	}, p)
}

func (df *differ) stepSymlink() step {
	p, target := df.pick(), diffTargets[df.rnd.IntN(len(diffTargets))]
	return nameStep(fmt.Sprintf("symlink %s -> %s", p, target), func(side int) outcome {
		return errOnly(syscall.Symlink(target, df.path(side, p)))
	}, p)
}

func (df *differ) stepReadlink() step {
	p := df.pick()
	return pathStep("readlink "+p, func(side int) outcome {
		buf := make([]byte, 256)
		n, err := syscall.Readlink(df.path(side, p), buf)
		if err != nil {
			return errOnly(err)
		}
		return outcome{n: n, data: buf[:n]}
	})
}

func (df *differ) stepChmod() step {
	p, m := df.pick(), df.mode()
	return pathStep(fmt.Sprintf("chmod %s %o", p, m), func(side int) outcome {
		return errOnly(syscall.Chmod(df.path(side, p), m))
	}, p)
}
