package snapshots

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fs/meta/badgerkv"
	"github.com/cairn-storage/cairn/fs/tree"
)

// testChunking are small chunking bounds so tests cross chunk boundaries.
var testChunking = chunks.Params{Min: 4 << 10, Avg: 16 << 10, Max: 64 << 10}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// env is a data directory (real badger, real chunk store) and its Manager.
type env struct {
	t   testing.TB
	dir string
	d   *datadir.Data
	m   *Manager

	mu     sync.Mutex
	closed map[*fs.Volume]int // -(open count) per volume
}

func newEnv(t testing.TB) *env { return openEnv(t, t.TempDir(), Options{}) }

func openEnv(t testing.TB, dir string, opts Options) *env {
	t.Helper()
	d, err := datadir.Open(dir, datadir.Options{Logger: quiet, FS: fs.Options{Chunking: testChunking, Logger: quiet}})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	e := &env{t: t, dir: dir, d: d, m: New(d.FS, d.Chunks, opts)}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

// openEnvWrapped is openEnv with the filesystem's chunk store wrapped.
func openEnvWrapped(t testing.TB, dir string, wrap func(chunks.Store) chunks.Store) *env {
	t.Helper()
	kv, err := badgerkv.Open(dir+"/meta", badgerkv.Options{Logger: quiet})
	check(t, err)
	local, err := chunks.OpenLocal(dir, chunks.LocalOptions{Logger: quiet})
	check(t, err)
	store := wrap(chunks.NewCache(local, 64<<20))
	fsys, err := fs.New(kv, store, fs.Options{Chunking: testChunking, Logger: quiet})
	check(t, err)
	d := &datadir.Data{Dir: dir, KV: kv, Local: local, Chunks: store, FS: fsys}
	e := &env{t: t, dir: dir, d: d, m: New(fsys, store, Options{Logger: quiet})}
	t.Cleanup(func() { check(t, d.Close()) })
	return e
}

// vol creates and opens volume name, closed at cleanup.
func (e *env) vol(name string) *fs.Volume {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.d.FS.CreateVolume(ctx, name, fs.VolumeConfig{}); err != nil {
		e.t.Fatal(err)
	}
	return e.open(name)
}

// open opens an existing volume, closed at cleanup unless closeVol did.
func (e *env) open(name string) *fs.Volume {
	e.t.Helper()
	v, err := e.d.FS.OpenVolume(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	e.mu.Lock()
	if e.closed == nil {
		e.closed = map[*fs.Volume]int{}
	}
	e.closed[v]--
	e.mu.Unlock()
	e.t.Cleanup(func() { e.closeVol(v) })
	return v
}

// closeVol closes one opening of v (once per open).
func (e *env) closeVol(v *fs.Volume) {
	e.mu.Lock()
	open := e.closed[v] < 0
	if open {
		e.closed[v]++
	}
	e.mu.Unlock()
	if open {
		if err := v.Close(context.Background()); err != nil {
			e.t.Error(err)
		}
	}
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// writeFile creates dir/name with data (written at off) and returns its inode.
func writeFile(t testing.TB, v *fs.Volume, dir fs.Ino, name string, data []byte, off int64) fs.Ino {
	t.Helper()
	ctx := context.Background()
	a, err := v.Mknod(ctx, nil, dir, name, syscall.S_IFREG|0o644, 0)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	writeAt(t, v, a.Ino, data, off)
	return a.Ino
}

// writeAt writes data into the file ino at off.
func writeAt(t testing.TB, v *fs.Volume, ino fs.Ino, data []byte, off int64) {
	t.Helper()
	ctx := context.Background()
	h, err := v.Open(ctx, nil, ino, syscall.O_WRONLY)
	if err != nil {
		t.Fatalf("open inode %d: %v", ino, err)
	}
	if len(data) > 0 {
		if _, err := h.Write(ctx, data, off); err != nil {
			t.Fatalf("write inode %d: %v", ino, err)
		}
	}
	check(t, h.Release(ctx))
}

func mkdir(t testing.TB, v *fs.Volume, dir fs.Ino, name string) fs.Ino {
	t.Helper()
	a, err := v.Mkdir(context.Background(), nil, dir, name, 0o755)
	if err != nil {
		t.Fatalf("mkdir %s: %v", name, err)
	}
	return a.Ino
}

// lookup resolves a slash-separated path from the root.
func lookup(t testing.TB, v *fs.Volume, p string) fs.Ino {
	t.Helper()
	ino := fs.RootIno
	for _, name := range splitPath(p) {
		a, err := v.Lookup(context.Background(), nil, ino, name)
		if err != nil {
			t.Fatalf("lookup %s: %v", p, err)
		}
		ino = a.Ino
	}
	return ino
}

func splitPath(p string) []string {
	var out []string
	for _, s := range bytes.Split([]byte(p), []byte("/")) {
		if len(s) > 0 {
			out = append(out, string(s))
		}
	}
	return out
}

// fileState is what exactness compares of one path.
type fileState struct {
	Ino                        uint64
	Mode, Nlink, Uid, Gid      uint32
	Rdev                       uint32
	Size, Blocks               uint64
	Atime, Mtime, Ctime, Btime int64
	Target                     string
	Xattrs                     string
	Content                    chunks.ID
}

type state map[string]fileState

// diffStates describes how two states differ ("" if equal).
func diffStates(want, got state) string {
	var out []string
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			out = append(out, "missing "+p)
		case g != w:
			out = append(out, fmt.Sprintf("%s:\n  want %+v\n  got  %+v", p, w, g))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			out = append(out, "unexpected "+p)
		}
	}
	sort.Strings(out)
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("... and %d more", len(out)-10))
	}
	var b bytes.Buffer
	for _, s := range out {
		b.WriteString(s + "\n")
	}
	return b.String()
}

func nanos(t time.Time) int64 { return t.UnixNano() }

// volState reads a volume through the fs API.
func volState(t testing.TB, v *fs.Volume) state {
	t.Helper()
	ctx := context.Background()
	st := state{}
	root, err := v.GetAttr(ctx, fs.RootIno)
	check(t, err)
	var walk func(p string, a fs.Attr)
	walk = func(p string, a fs.Attr) {
		fsState := fileState{Ino: uint64(a.Ino), Mode: a.Mode, Nlink: a.Nlink, Uid: a.Uid, Gid: a.Gid,
			Rdev: a.Rdev, Size: a.Size, Blocks: a.Blocks, Atime: nanos(a.Atime), Mtime: nanos(a.Mtime),
			Ctime: nanos(a.Ctime), Btime: nanos(a.Btime)}
		names, err := v.ListXattr(ctx, nil, a.Ino)
		check(t, err)
		sort.Strings(names)
		for _, n := range names {
			val, err := v.GetXattr(ctx, nil, a.Ino, n)
			check(t, err)
			fsState.Xattrs += fmt.Sprintf("%s=%q;", n, val)
		}
		switch {
		case a.IsSymlink():
			fsState.Target, err = v.Readlink(ctx, a.Ino)
			check(t, err)
		case a.IsRegular():
			h, err := v.Open(ctx, nil, a.Ino, syscall.O_RDONLY)
			check(t, err)
			buf := make([]byte, a.Size)
			if a.Size > 0 {
				n, err := h.Read(ctx, buf, 0)
				check(t, err)
				if uint64(n) != a.Size {
					t.Fatalf("%s: read %d of %d bytes", p, n, a.Size)
				}
			}
			check(t, h.Release(ctx))
			fsState.Content = chunks.Sum(buf)
		}
		st[p] = fsState
		if !a.IsDir() {
			return
		}
		type child struct {
			name string
			a    fs.Attr
		}
		var kids []child
		err = v.ReadDirPlus(ctx, nil, a.Ino, 0, func(e fs.DirEntry, ca *fs.Attr) bool {
			kids = append(kids, child{e.Name, *ca})
			return true
		}, true)
		check(t, err)
		for _, k := range kids {
			walk(path.Join(p, k.name), k.a)
		}
	}
	walk("/", root)
	return st
}

func treeTime(t tree.Time) int64 { return t.Sec*1e9 + int64(t.Nsec) }

// treeState reads a snapshot's tree straight from the chunks.
func treeState(t testing.TB, get chunks.Getter, root tree.Root) state {
	t.Helper()
	ctx := context.Background()
	st := state{}
	var walk func(p string, e tree.Entry)
	walk = func(p string, e tree.Entry) {
		a := e.Attr
		s := fileState{Ino: a.Ino, Mode: a.Mode, Nlink: a.Nlink, Uid: a.Uid, Gid: a.Gid, Rdev: a.Rdev,
			Size: a.Size, Blocks: (a.Alloc + 511) / 512, Atime: treeTime(a.Atime), Mtime: treeTime(a.Mtime),
			Ctime: treeTime(a.Ctime), Btime: treeTime(a.Btime), Target: e.Target}
		var n *tree.Node
		if !e.Node.IsZero() {
			var err error
			n, err = readNode(ctx, get, e.Node)
			check(t, err)
			for _, x := range n.Xattrs {
				s.Xattrs += fmt.Sprintf("%s=%q;", x.Name, x.Value)
			}
		}
		if a.Mode&syscall.S_IFMT == syscall.S_IFREG {
			buf := make([]byte, a.Size)
			var alloc uint64
			if n != nil {
				for _, x := range n.Extents {
					data, err := get.Get(ctx, x.Chunk)
					check(t, err)
					if x.Off < a.Size {
						copy(buf[x.Off:min(x.Off+x.Len, a.Size)], data[x.ChunkOff:])
					}
					alloc += x.Len
				}
			}
			if alloc != a.Alloc {
				t.Errorf("%s: extents cover %d bytes, attributes say %d", p, alloc, a.Alloc)
			}
			s.Content = chunks.Sum(buf)
		}
		st[p] = s
		if n != nil && n.Kind == tree.KindDir {
			for _, c := range n.Entries {
				walk(path.Join(p, c.Name), c)
			}
		}
	}
	walk("/", tree.Entry{Attr: root.Attr, Node: root.Node})
	return st
}

// randomOps applies n random namespace and data operations to v.
func randomOps(t testing.TB, v *fs.Volume, rng *rand.Rand, n int) {
	t.Helper()
	ctx := context.Background()
	dirs := []fs.Ino{fs.RootIno}
	type named struct {
		dir  fs.Ino
		name string
		ino  fs.Ino
	}
	var files []named
	var collect func(dir fs.Ino)
	collect = func(dir fs.Ino) {
		var sub []fs.Ino
		check(t, v.ReadDir(ctx, nil, dir, 0, func(e fs.DirEntry) bool {
			if e.Mode == syscall.S_IFDIR {
				sub = append(sub, e.Ino)
			} else if e.Mode == syscall.S_IFREG {
				files = append(files, named{dir, e.Name, e.Ino})
			}
			return true
		}))
		dirs = append(dirs, sub...)
		for _, d := range sub {
			collect(d)
		}
	}
	collect(fs.RootIno)
	pickDir := func() fs.Ino { return dirs[rng.IntN(len(dirs))] }
	name := func() string { return fmt.Sprintf("n%03d", rng.IntN(400)) }
	data := func(size int) []byte {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(rng.IntN(7)) // compressible, still varied
		}
		return b
	}
	ignore := func(err error) {
		var errno syscall.Errno
		if err != nil && !errors.As(err, &errno) {
			t.Fatal(err)
		}
	}
	for range n {
		switch op := rng.IntN(14); {
		case op < 2:
			a, err := v.Mkdir(ctx, nil, pickDir(), name(), 0o755)
			ignore(err)
			if err == nil {
				dirs = append(dirs, a.Ino)
			}
		case op < 5:
			d, nm := pickDir(), name()
			a, err := v.Mknod(ctx, nil, d, nm, syscall.S_IFREG|0o644, 0)
			ignore(err)
			if err == nil {
				off := int64(0)
				if rng.IntN(4) == 0 {
					off = int64(rng.IntN(1 << 20)) // a hole first
				}
				writeAt(t, v, a.Ino, data(rng.IntN(100<<10)), off)
				files = append(files, named{d, nm, a.Ino})
			}
		case len(files) == 0:
		case op == 5:
			f := files[rng.IntN(len(files))]
			h, err := v.Open(ctx, nil, f.ino, syscall.O_WRONLY)
			ignore(err)
			if err == nil {
				_, err = h.Write(ctx, data(rng.IntN(20<<10)+1), int64(rng.IntN(200<<10)))
				ignore(err)
				check(t, h.Release(ctx))
			}
		case op == 6:
			size := uint64(rng.IntN(150 << 10))
			_, err := v.SetAttr(ctx, nil, files[rng.IntN(len(files))].ino, fs.SetAttrIn{Size: &size})
			ignore(err)
		case op == 7:
			_, err := v.Symlink(ctx, nil, pickDir(), name(), "../target/"+name())
			ignore(err)
		case op == 8:
			f := files[rng.IntN(len(files))]
			d, nm := pickDir(), name()
			_, err := v.Link(ctx, nil, f.ino, d, nm)
			ignore(err)
			if err == nil {
				files = append(files, named{d, nm, f.ino})
			}
		case op == 9:
			i := rng.IntN(len(files))
			f := files[i]
			d, nm := pickDir(), name()
			err := v.Rename(ctx, nil, f.dir, f.name, d, nm, 0)
			ignore(err)
			if err == nil {
				files[i] = named{d, nm, f.ino}
			}
		case op == 10:
			i := rng.IntN(len(files))
			ignore(v.Unlink(ctx, nil, files[i].dir, files[i].name))
			files = append(files[:i], files[i+1:]...)
		case op == 11:
			ino := files[rng.IntN(len(files))].ino
			if rng.IntN(2) == 0 {
				ino = pickDir()
			}
			ignore(v.SetXattr(ctx, nil, ino, "user."+name(), data(rng.IntN(40)), 0))
		case op == 12:
			mode := uint32(rng.IntN(0o777))
			_, err := v.SetAttr(ctx, nil, files[rng.IntN(len(files))].ino, fs.SetAttrIn{Mode: &mode})
			ignore(err)
		default:
			tm := time.Unix(int64(rng.IntN(2e9)), int64(rng.IntN(1e9)))
			_, err := v.SetAttr(ctx, nil, files[rng.IntN(len(files))].ino, fs.SetAttrIn{Mtime: &tm, Atime: &tm})
			ignore(err)
		}
	}
}
