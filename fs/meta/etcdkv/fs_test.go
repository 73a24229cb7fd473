package etcdkv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fs/meta/etcdkv"
)

// The filesystem core runs on etcd: these tests drive it through its
// public API, as the FUSE and NFS frontends do.

var smallChunks = chunks.Params{Min: 4 << 10, Avg: 16 << 10, Max: 64 << 10}

// newFS opens a filesystem over a KV on members (under prefix) and store.
func newFS(t *testing.T, members []*etcdkv.Embedded, prefix string, store *chunks.Local) *fs.FS {
	t.Helper()
	fsys, err := fs.New(openKV(t, members, prefix), store, fs.Options{Chunking: smallChunks, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := fsys.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return fsys
}

func newStore(t *testing.T) *chunks.Local {
	t.Helper()
	store, err := chunks.OpenLocal(t.TempDir(), chunks.LocalOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErrno(t *testing.T, err error, want syscall.Errno) {
	t.Helper()
	var got syscall.Errno
	if !errors.As(err, &got) || got != want {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

func fsck(t *testing.T, fsys *fs.FS, store *chunks.Local) fs.FsckReport {
	t.Helper()
	rep, err := fsys.Fsck(context.Background(), fs.FsckOptions{Chunks: store})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 {
		t.Fatalf("fsck: %v", rep.Problems)
	}
	return rep
}

func readAll(t *testing.T, v *fs.Volume, ino fs.Ino) []byte {
	t.Helper()
	ctx := context.Background()
	h := must[*fs.Handle](t)(v.Open(ctx, nil, ino, syscall.O_RDONLY))
	defer func() { check(t, h.Release(ctx)) }()
	var out []byte
	buf := make([]byte, 100<<10)
	for {
		n, err := h.Read(ctx, buf, int64(len(out)))
		check(t, err)
		if n == 0 {
			return out
		}
		out = append(out, buf[:n]...)
	}
}

func dirNames(t *testing.T, v *fs.Volume, dir fs.Ino) map[string]fs.Ino {
	t.Helper()
	names := map[string]fs.Ino{}
	err := v.ReadDir(context.Background(), nil, dir, 0, func(e fs.DirEntry) bool {
		names[e.Name] = e.Ino
		return true
	})
	check(t, err)
	delete(names, ".")
	delete(names, "..")
	return names
}

func TestFilesystem(t *testing.T) {
	ctx := context.Background()
	members := sharedCluster(t, 1)
	prefix := freshPrefix()
	store := newStore(t)
	fsys := newFS(t, members, prefix, store)
	attr := must[fs.Attr](t)

	// Volumes.
	must[fs.VolumeInfo](t)(fsys.CreateVolume(ctx, "scratch", fs.VolumeConfig{}))
	must[fs.VolumeInfo](t)(fsys.CreateVolume(ctx, "data", fs.VolumeConfig{}))
	_, err := fsys.CreateVolume(ctx, "data", fs.VolumeConfig{})
	wantErrno(t, err, syscall.EEXIST)
	check(t, fsys.DeleteVolume(ctx, "scratch"))
	if vols := must[[]fs.VolumeInfo](t)(fsys.ListVolumes(ctx)); len(vols) != 1 || vols[0].Name != "data" {
		t.Fatalf("volumes: %+v", vols)
	}
	v := must[*fs.Volume](t)(fsys.OpenVolume(ctx, "data"))
	defer func() { check(t, v.Close(ctx)) }()

	// Directories, files, hard links.
	d := attr(v.Mkdir(ctx, nil, fs.RootIno, "d", 0o755))
	f := attr(v.Mknod(ctx, nil, d.Ino, "f", syscall.S_IFREG|0o644, 0))
	if l := attr(v.Link(ctx, nil, f.Ino, fs.RootIno, "hard")); l.Nlink != 2 {
		t.Fatalf("nlink after link = %d", l.Nlink)
	}
	wantErrno(t, v.Rmdir(ctx, nil, fs.RootIno, "d"), syscall.ENOTEMPTY)

	// Data: random writes, truncations and flushes against a model.
	h := must[*fs.Handle](t)(v.Open(ctx, nil, f.Ino, syscall.O_RDWR))
	rng := rand.New(rand.NewPCG(3, 4))
	var model []byte
	for range 150 {
		switch op := rng.IntN(10); {
		case op < 6:
			p := make([]byte, 1+rng.IntN(30000))
			for i := range p {
				p[i] = byte(rng.Uint32())
			}
			off := rng.IntN(len(model) + 20000)
			must[int](t)(h.Write(ctx, p, int64(off)))
			if end := off + len(p); end > len(model) {
				model = append(model, make([]byte, end-len(model))...)
			}
			copy(model[off:], p)
		case op < 8:
			n := rng.IntN(len(model) + 5000)
			size := uint64(n)
			attr(v.SetAttr(ctx, nil, f.Ino, fs.SetAttrIn{Size: &size, ByHandle: true}))
			if n < len(model) {
				model = model[:n]
			} else {
				model = append(model, make([]byte, n-len(model))...)
			}
		default:
			check(t, h.Flush(ctx))
		}
	}
	check(t, h.Fsync(ctx))
	check(t, h.Release(ctx))
	if got := readAll(t, v, f.Ino); !bytes.Equal(got, model) {
		t.Fatalf("file holds %d bytes that differ from the %d written", len(got), len(model))
	}

	// Renames: within and across directories, exchange, over a file.
	e := attr(v.Mkdir(ctx, nil, fs.RootIno, "e", 0o700))
	check(t, v.Rename(ctx, nil, fs.RootIno, "d", e.Ino, "d2", 0))
	s := attr(v.Symlink(ctx, nil, fs.RootIno, "s", "e/d2/f"))
	check(t, v.Rename(ctx, nil, fs.RootIno, "s", d.Ino, "f", fs.RenameExchange))
	if got := attr(v.Lookup(ctx, nil, d.Ino, "f")); got.Ino != s.Ino {
		t.Fatal("exchange did not swap")
	}
	g := attr(v.Mknod(ctx, nil, fs.RootIno, "g", syscall.S_IFREG|0o600, 0))
	check(t, v.Rename(ctx, nil, fs.RootIno, "g", fs.RootIno, "hard", 0)) // replaces a link of f
	if got := attr(v.GetAttr(ctx, f.Ino)); got.Nlink != 1 {
		t.Fatalf("f nlink = %d after its link was replaced", got.Nlink)
	}
	if names := dirNames(t, v, fs.RootIno); len(names) != 3 || names["hard"] != g.Ino || names["s"] != f.Ino {
		t.Fatalf("root holds %v", names)
	}
	if root := attr(v.GetAttr(ctx, fs.RootIno)); root.Nlink != 3 {
		t.Fatalf("root nlink = %d", root.Nlink)
	}

	// Unlink and rmdir.
	check(t, v.Unlink(ctx, nil, d.Ino, "f"))
	check(t, v.Rmdir(ctx, nil, e.Ino, "d2"))
	check(t, v.Unlink(ctx, nil, fs.RootIno, "hard"))
	if names := dirNames(t, v, fs.RootIno); len(names) != 2 {
		t.Fatalf("root holds %v", names)
	}
	fsck(t, fsys, store)

	// Another process on the same metadata sees it all.
	other := newFS(t, members, prefix, store)
	v2 := must[*fs.Volume](t)(other.OpenVolume(ctx, "data"))
	defer func() { check(t, v2.Close(ctx)) }()
	if got := readAll(t, v2, f.Ino); !bytes.Equal(got, model) {
		t.Fatalf("the other process reads %d bytes that differ from the %d written", len(got), len(model))
	}
}

// Two filesystem processes on two nodes of a three-member cluster create,
// link, rename and remove entries of one directory at once; the result is
// consistent.
func TestFilesystemTwoNodes(t *testing.T) {
	ctx := context.Background()
	members := sharedCluster(t, 3)
	prefix := freshPrefix()
	store := newStore(t)
	nodes := []*fs.FS{newFS(t, members[:1], prefix, store), newFS(t, members[1:2], prefix, store)}
	must[fs.VolumeInfo](t)(nodes[0].CreateVolume(ctx, "shared", fs.VolumeConfig{}))
	vols := make([]*fs.Volume, 2)
	for i, n := range nodes {
		vols[i] = must[*fs.Volume](t)(n.OpenVolume(ctx, "shared"))
		defer vols[i].Close(ctx)
	}
	dir := must[fs.Attr](t)(vols[0].Mkdir(ctx, nil, fs.RootIno, "dir", 0o777))

	const perNode = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i, v := range vols {
		wg.Go(func() {
			errs <- func() error {
				for j := range perNode {
					name := fmt.Sprintf("n%d-%02d", i, j)
					a, err := v.Mknod(ctx, nil, dir.Ino, name, syscall.S_IFREG|0o644, 0)
					if err != nil {
						return err
					}
					if _, err := v.Link(ctx, nil, a.Ino, fs.RootIno, name); err != nil {
						return err
					}
					if _, err := v.Mkdir(ctx, nil, dir.Ino, name+".d", 0o755); err != nil {
						return err
					}
					switch j % 3 {
					case 0:
						err = v.Rename(ctx, nil, dir.Ino, name+".d", dir.Ino, "renamed-"+name, 0)
					case 1:
						err = v.Rmdir(ctx, nil, dir.Ino, name+".d")
					}
					if err != nil {
						return err
					}
				}
				return nil
			}()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		check(t, err)
	}
	names := dirNames(t, vols[1], dir.Ino)
	var subdirs uint32
	for name := range names {
		if strings.HasSuffix(name, ".d") || strings.HasPrefix(name, "renamed-") {
			subdirs++
		}
	}
	if want := 2*perNode + 2*(perNode-(perNode+1)/3); len(names) != want {
		t.Errorf("dir holds %d entries; want %d", len(names), want)
	}
	if a := must[fs.Attr](t)(vols[0].GetAttr(ctx, dir.Ino)); a.Nlink != 2+subdirs {
		t.Errorf("dir nlink = %d; want %d", a.Nlink, 2+subdirs)
	}
	fsck(t, nodes[0], store)
}
