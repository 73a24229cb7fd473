package fs

import (
	"bytes"
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// writeFile creates dir/name with data.
func writeFile(t *testing.T, v *Volume, dir Ino, name string, data []byte) Ino {
	t.Helper()
	ctx := context.Background()
	a, err := v.Lookup(ctx, nil, dir, name)
	if err == syscall.ENOENT {
		a = must[Attr](t)(v.Mknod(ctx, nil, dir, name, syscall.S_IFREG|0o644, 0))
	} else if err != nil {
		t.Fatal(err)
	}
	h := must[*Handle](t)(v.Open(ctx, nil, a.Ino, syscall.O_WRONLY|syscall.O_TRUNC))
	must[int](t)(h.Write(ctx, data, 0))
	if err := h.Release(ctx); err != nil {
		t.Fatal(err)
	}
	return a.Ino
}

// dump describes a volume's whole namespace for comparison.
func dump(t *testing.T, v *Volume) string {
	t.Helper()
	ctx := context.Background()
	var b bytes.Buffer
	var walk func(dir Ino, path string)
	walk = func(dir Ino, path string) {
		err := v.ReadDirPlus(ctx, nil, dir, 0, func(e DirEntry, a *Attr) bool {
			p := path + "/" + e.Name
			fmt.Fprintf(&b, "%s ino=%d mode=%o nlink=%d uid=%d size=%d mtime=%d\n", p, a.Ino, a.Mode, a.Nlink, a.Uid, a.Size, a.Mtime.UnixNano())
			switch {
			case a.IsDir():
				walk(e.Ino, p)
			case a.IsRegular():
				h := must[*Handle](t)(v.Open(ctx, nil, e.Ino, syscall.O_RDONLY))
				fmt.Fprintf(&b, "  data=%x\n", readAll(t, h, int(a.Size)))
				if err := h.Release(ctx); err != nil {
					t.Fatal(err)
				}
				if x, err := v.GetXattr(ctx, nil, e.Ino, "user.tag"); err == nil {
					fmt.Fprintf(&b, "  xattr=%s\n", x)
				}
			case a.IsSymlink():
				fmt.Fprintf(&b, "  -> %s\n", must[string](t)(v.Readlink(ctx, e.Ino)))
			}
			return true
		}, true)
		if err != nil {
			t.Fatal(err)
		}
	}
	walk(RootIno, "")
	return b.String()
}

func TestSnapshotCloneRestore(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.volume(t, "src", VolumeConfig{})
	d := must[Attr](t)(v.Mkdir(ctx, nil, RootIno, "d", 0o750))
	for i := range 20 {
		writeFile(t, v, d.Ino, fmt.Sprintf("f%d", i), bytes.Repeat([]byte{byte(i)}, 1000*i))
	}
	sub := must[Attr](t)(v.Mkdir(ctx, nil, d.Ino, "sub", 0o700))
	f := writeFile(t, v, sub.Ino, "deep", []byte("deep data"))
	if err := v.SetXattr(ctx, nil, f, "user.tag", []byte("v1"), 0); err != nil {
		t.Fatal(err)
	}
	must[Attr](t)(v.Symlink(ctx, nil, RootIno, "ln", "d/sub/deep"))
	want := dump(t, v)

	cuts := must[[]TreeCut](t)(e.fs.Snapshot(ctx, []*Volume{v}, SnapshotOptions{}))
	cut := cuts[0]
	// The second snapshot of an unchanged volume reuses the root's node.
	again := must[[]TreeCut](t)(e.fs.Snapshot(ctx, []*Volume{v}, SnapshotOptions{}))
	if again[0].Root.Node != cut.Root.Node {
		t.Fatal("unchanged volume got a new tree")
	}

	must[VolumeInfo](t)(e.fs.CreateVolumeFromTree(ctx, "clone", VolumeConfig{}, cut.Root, cut.MaxIno))
	c := must[*Volume](t)(e.fs.OpenVolume(ctx, "clone"))
	defer c.Close(ctx)
	if got := dump(t, c); got != want {
		t.Fatalf("clone differs:\n%s\nwant:\n%s", got, want)
	}
	// Diverge both; neither sees the other's change.
	writeFile(t, c, RootIno, "only-in-clone", []byte("c"))
	writeFile(t, v, d.Ino, "f3", []byte("changed in origin"))
	if _, err := v.Lookup(ctx, nil, RootIno, "only-in-clone"); err != syscall.ENOENT {
		t.Fatalf("origin sees clone's file: %v", err)
	}
	if c3 := must[Attr](t)(c.Lookup(ctx, nil, must[Attr](t)(c.Lookup(ctx, nil, RootIno, "d")).Ino, "f3")); c3.Size != 3000 {
		t.Fatalf("clone's f3 has size %d", c3.Size)
	}
	// Snapshot of the changed clone matches a fresh dump after restore.
	cc := must[[]TreeCut](t)(e.fs.Snapshot(ctx, []*Volume{c}, SnapshotOptions{}))
	cloneWant := dump(t, c)

	// Restore the origin to the first cut.
	if _, err := e.fs.RestoreVolume(ctx, "src", cut.Root, cut.MaxIno); err == nil {
		t.Fatal("restore of an open volume succeeded")
	}
	if err := v.Close(ctx); err != nil {
		t.Fatal(err)
	}
	must[VolumeInfo](t)(e.fs.RestoreVolume(ctx, "src", cut.Root, cut.MaxIno))
	r := must[*Volume](t)(e.fs.OpenVolume(ctx, "src"))
	defer r.Close(ctx)
	if got := dump(t, r); got != want {
		t.Fatalf("restored volume differs:\n%s\nwant:\n%s", got, want)
	}
	must[VolumeInfo](t)(e.fs.CreateVolumeFromTree(ctx, "clone2", VolumeConfig{}, cc[0].Root, cc[0].MaxIno))
	c2 := must[*Volume](t)(e.fs.OpenVolume(ctx, "clone2"))
	defer c2.Close(ctx)
	if got := dump(t, c2); got != cloneWant {
		t.Fatalf("clone of changed clone differs:\n%s\nwant:\n%s", got, cloneWant)
	}
	e.fs.bg.Wait()
	checkFsck(t, e, 0)
}

// TestSnapshotCost checks that a second snapshot after a small change
// rebuilds only the changed path.
func TestSnapshotCost(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.volume(t, "cost", VolumeConfig{})
	const dirs, files = 20, 50
	var some Ino
	for i := range dirs {
		d := must[Attr](t)(v.Mkdir(ctx, nil, RootIno, fmt.Sprintf("d%d", i), 0o755))
		for j := range files {
			ino := writeFile(t, v, d.Ino, fmt.Sprintf("f%d", j), []byte(fmt.Sprintf("%d/%d", i, j)))
			if i == 7 && j == 7 {
				some = ino
			}
		}
	}
	start := time.Now()
	first := must[[]TreeCut](t)(e.fs.Snapshot(ctx, []*Volume{v}, SnapshotOptions{}))
	t1 := time.Since(start)
	h := must[*Handle](t)(v.Open(ctx, nil, some, syscall.O_WRONLY))
	must[int](t)(h.Write(ctx, []byte("changed"), 0))
	if err := h.Release(ctx); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	second := must[[]TreeCut](t)(e.fs.Snapshot(ctx, []*Volume{v}, SnapshotOptions{}))
	t2 := time.Since(start)
	if first[0].Root.Node == second[0].Root.Node {
		t.Fatal("change not in the second snapshot")
	}
	t.Logf("first snapshot %v, second %v", t1, t2)
	if t2*5 > t1 {
		t.Errorf("second snapshot took %v, first %v: caching not effective", t2, t1)
	}
}

// TestSnapshotHardLinks changes a file through one of its names after a
// snapshot; the next snapshot must show the change under every name.
func TestSnapshotHardLinks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.volume(t, "hl", VolumeConfig{})
	a := must[Attr](t)(v.Mkdir(ctx, nil, RootIno, "a", 0o755))
	b := must[Attr](t)(v.Mkdir(ctx, nil, RootIno, "b", 0o755))
	f := writeFile(t, v, a.Ino, "f", []byte("one"))
	must[Attr](t)(v.Link(ctx, nil, f, b.Ino, "g"))
	must[[]TreeCut](t)(e.fs.Snapshot(ctx, []*Volume{v}, SnapshotOptions{}))
	writeFile(t, v, b.Ino, "g", []byte("two!"))
	want := dump(t, v)
	cut := must[[]TreeCut](t)(e.fs.Snapshot(ctx, []*Volume{v}, SnapshotOptions{}))[0]
	if !cut.Root.Links {
		t.Fatal("tree with hard links not flagged")
	}
	must[VolumeInfo](t)(e.fs.CreateVolumeFromTree(ctx, "hl2", VolumeConfig{}, cut.Root, cut.MaxIno))
	c := must[*Volume](t)(e.fs.OpenVolume(ctx, "hl2"))
	defer c.Close(ctx)
	if got := dump(t, c); got != want {
		t.Fatalf("clone differs:\n%s\nwant:\n%s", got, want)
	}
	checkFsck(t, e, 0)
}

func TestTreeVolume(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.volume(t, "tv", VolumeConfig{})
	writeFile(t, v, RootIno, "f", []byte("snap"))
	want := dump(t, v)
	cut := must[[]TreeCut](t)(e.fs.Snapshot(ctx, []*Volume{v}, SnapshotOptions{}))[0]
	writeFile(t, v, RootIno, "f", []byte("later"))
	name := TreeVolumeName("tv", "s1")
	view := must[*Volume](t)(e.fs.OpenTreeVolume(ctx, name, cut.Root, cut.MaxIno))
	if got := dump(t, view); got != want {
		t.Fatalf("view differs:\n%s\nwant:\n%s", got, want)
	}
	_, err := view.Mknod(ctx, nil, RootIno, "x", syscall.S_IFREG|0o644, 0)
	wantErrno(t, err, syscall.EROFS)
	if list := must[[]VolumeInfo](t)(e.fs.ListVolumes(ctx)); len(list) != 1 {
		t.Fatalf("hidden volume listed: %+v", list)
	}
	if err := view.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.fs.DeleteTreeVolume(ctx, name); err != nil {
		t.Fatal(err)
	}
}
