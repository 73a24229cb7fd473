//go:build linux

package fusefs

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDifferential applies the same random operations to a cairn mount
// and to a directory on the local disk and compares, after every step,
// the results (data read, errno of failures) and the state of everything
// the step touched; the whole trees are compared every fullCheckEvery
// steps and at the end.
func TestDifferential(t *testing.T) {
	requireFUSE(t)
	seeds := seedsFromEnv([]uint64{1, 2, 3, 4})
	steps := 2600
	if *long {
		steps = 50000
	}
	d := openData(t, t.TempDir(), nil)
	for _, seed := range seeds {
		// Every fourth seed runs with the kernel's writeback cache.
		opts := Options{Writeback: seed%4 == 0}
		t.Run(fmt.Sprintf("seed%d-writeback=%v", seed, opts.Writeback), func(t *testing.T) {
			vol := newVolume(t, d, fmt.Sprint("diff-", seed))
			df := newDiffer(t, seed, mountVolume(t, vol, opts), t.TempDir())
			df.run(steps)
			t.Logf("%d steps; outcomes by errno: %v", steps, df.errs)
		})
	}
}

const fullCheckEvery = 100

// run applies steps random steps, checking the trees regularly.
func (df *differ) run(steps int) {
	defer df.closeAll()
	for i := range steps {
		df.step(i)
		if i%fullCheckEvery == fullCheckEvery-1 {
			df.checkTree()
		}
	}
	df.checkTree()
}

// failer is what a differential run reports failures to: a *testing.T,
// or a child process's stand-in.
type failer interface {
	Helper()
	Fatalf(format string, args ...any)
}

// differ drives one differential run. Side 0 is cairn, side 1 the
// reference directory.
type differ struct {
	t    failer
	seed uint64
	rnd  *rand.Rand
	root [2]string
	fds  []fdPair
	log  []string // recent steps, for failure reports
	data []byte   // scratch for random contents
	errs map[syscall.Errno]int
}

// fdPair is a file open on both sides.
type fdPair struct {
	fd    [2]int
	path  string
	flags int
}

// outcome is what an operation returned on one side.
type outcome struct {
	errno syscall.Errno
	n     int
	data  []byte
}

// step is one operation: how to run it on a side, and what to compare
// afterwards.
type step struct {
	desc    string
	apply   func(side int) outcome
	touched []string // paths whose state is compared afterwards
	content bool     // compare the contents of touched files too
	parents bool     // compare the directories of touched paths too
	fd      int      // index of an fd pair to compare afterwards, or -1
}

func newDiffer(t failer, seed uint64, cairn, ref string) *differ {
	return &differ{t: t, seed: seed, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		root: [2]string{cairn, ref}, data: make([]byte, 2<<20), errs: map[syscall.Errno]int{}}
}

func (df *differ) closeAll() {
	for _, p := range df.fds {
		syscall.Close(p.fd[0])
		syscall.Close(p.fd[1])
	}
	df.fds = nil
}

// fail reports a divergence with the steps that led to it.
func (df *differ) fail(format string, args ...any) {
	df.t.Helper()
	df.t.Fatalf("seed %d: %s\nlast steps:\n  %s", df.seed, fmt.Sprintf(format, args...),
		strings.Join(df.log, "\n  "))
}

func (df *differ) step(i int) {
	s := df.randomStep()
	df.log = append(df.log, fmt.Sprintf("%d: %s", i, s.desc))
	if len(df.log) > 30 {
		df.log = df.log[1:]
	}
	a, b := s.apply(0), s.apply(1)
	if a.errno != b.errno || a.n != b.n || !bytes.Equal(a.data, b.data) {
		df.fail("%s: cairn gave %s, local disk %s", s.desc, a, b)
	}
	df.errs[a.errno]++
	for _, p := range s.touched {
		df.checkPath(p, s.content)
		if s.parents {
			df.checkPath(filepath.Dir(p), false)
		}
	}
	if s.fd >= 0 && s.fd < len(df.fds) {
		df.checkFd(s.fd)
	}
}

func (o outcome) String() string {
	return fmt.Sprintf("{errno %v (%d), n %d, %d bytes}", o.errno, int(o.errno), o.n, len(o.data))
}

// errnoOf extracts the errno of a system call error.
func errnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if err == nil || errors.As(err, &e) {
		return e
	}
	panic(fmt.Sprintf("not an errno: %v", err))
}

func (df *differ) path(side int, rel string) string { return filepath.Join(df.root[side], rel) }

// state is what checkPath compares of one path.
type state struct {
	errno  syscall.Errno
	mode   uint32
	nlink  uint64
	uid    uint32
	gid    uint32
	size   int64 // regular files and symlinks
	target string
	list   string // directories: sorted "name/type" entries
	xattrs string // sorted "name=value" pairs
}

func (df *differ) stateOf(side int, rel string) state {
	p := df.path(side, rel)
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return state{errno: errnoOf(err)}
	}
	s := state{mode: st.Mode, nlink: uint64(st.Nlink), uid: st.Uid, gid: st.Gid} // Nlink is uint32 on arm64
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		s.size = st.Size
	case syscall.S_IFLNK:
		s.size = st.Size
		s.target, _ = os.Readlink(p)
	case syscall.S_IFDIR:
		s.list = listing(p)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFLNK {
		s.xattrs = xattrs(p)
	}
	return s
}

// listing returns the sorted entries of dir, or its error.
func listing(dir string) string {
	es, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Sprint("error ", errnoOf(err))
	}
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s/%o", e.Name(), e.Type()))
	}
	return strings.Join(out, " ")
}

// xattrs returns the sorted extended attributes of p, or an error.
func xattrs(p string) string {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		return fmt.Sprint("error ", errnoOf(err))
	}
	var out []string
	for name := range strings.SplitSeq(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		val := make([]byte, 256)
		k, err := unix.Lgetxattr(p, name, val)
		if err != nil {
			out = append(out, fmt.Sprint(name, " error ", errnoOf(err)))
			continue
		}
		out = append(out, name+"="+string(val[:k]))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// checkPath compares the state of rel on both sides, and the contents
// of a regular file if content is set.
func (df *differ) checkPath(rel string, content bool) {
	df.t.Helper()
	a, b := df.stateOf(0, rel), df.stateOf(1, rel)
	if a != b {
		df.fail("state of %q differs:\n  cairn %+v\n  local %+v", rel, a, b)
	}
	if content && a.errno == 0 && a.mode&syscall.S_IFMT == syscall.S_IFREG {
		ca, ea := os.ReadFile(df.path(0, rel))
		cb, eb := os.ReadFile(df.path(1, rel))
		if errnoOf(ea) != errnoOf(eb) || !bytes.Equal(ca, cb) {
			df.fail("content of %q differs: cairn %d bytes (%v), local %d bytes (%v) %s",
				rel, len(ca), ea, len(cb), eb, firstDiff(ca, cb))
		}
	}
}

func firstDiff(a, b []byte) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("first difference at %d: %#x vs %#x", i, a[i], b[i])
		}
	}
	return "one is a prefix of the other"
}

// checkFd compares an open file pair through its descriptors.
func (df *differ) checkFd(i int) {
	df.t.Helper()
	p := df.fds[i]
	var sa, sb unix.Stat_t
	ea, eb := unix.Fstat(p.fd[0], &sa), unix.Fstat(p.fd[1], &sb)
	if ea != nil || eb != nil {
		df.fail("fstat of fd for %q: cairn %v, local %v", p.path, ea, eb)
	}
	regular := sa.Mode&syscall.S_IFMT == syscall.S_IFREG
	if (regular && sa.Size != sb.Size) || sa.Mode != sb.Mode || sa.Nlink != sb.Nlink {
		df.fail("fstat of fd for %q: cairn size %d mode %o nlink %d, local size %d mode %o nlink %d",
			p.path, sa.Size, sa.Mode, sa.Nlink, sb.Size, sb.Mode, sb.Nlink)
	}
	if !regular || p.flags&syscall.O_ACCMODE == syscall.O_WRONLY {
		return
	}
	ca, cb := make([]byte, sa.Size+1), make([]byte, sb.Size+1)
	na, ea := syscall.Pread(p.fd[0], ca, 0)
	nb, eb := syscall.Pread(p.fd[1], cb, 0)
	if ea != nil || eb != nil || !bytes.Equal(ca[:na], cb[:nb]) {
		df.fail("content through fd for %q differs: cairn %d (%v), local %d (%v)", p.path, na, ea, nb, eb)
	}
}

// checkTree compares the two trees entirely.
func (df *differ) checkTree() {
	df.t.Helper()
	var walk func(rel string)
	walk = func(rel string) {
		df.checkPath(rel, true)
		es, err := os.ReadDir(df.path(1, rel))
		if err != nil {
			return // not a directory
		}
		for _, e := range es {
			walk(filepath.Join(rel, e.Name()))
		}
	}
	walk(".")
	for i := range df.fds {
		df.checkFd(i)
	}
}
