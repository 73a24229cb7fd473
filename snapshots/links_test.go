package snapshots

import (
	"context"
	"testing"
)

// A file with two names in different directories, changed through one
// name after a restore (or in a clone): the next snapshot must see the
// change under both names.
func TestHardLinkAfterRestore(t *testing.T) {
	for _, how := range []string{"restore", "clone"} {
		t.Run(how, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			v := e.vol("a")
			d1, d2 := mkdir(t, v, 1, "d1"), mkdir(t, v, 1, "d2")
			f := writeFile(t, v, d1, "f", []byte("one"), 0)
			must[any](t)(v.Link(ctx, nil, f, d2, "g"))
			must[Snapshot](t)(e.m.Create(ctx, "a", "s1", CreateOptions{}))
			name := "a"
			if how == "restore" {
				e.closeVol(v)
				must[any](t)(e.m.Restore(ctx, "a", "s1"))
			} else {
				name = "c"
				must[any](t)(e.m.Clone(ctx, "a@s1", "c"))
			}
			v = e.open(name)
			writeAt(t, v, lookup(t, v, "d2/g"), []byte("two!"), 0)
			want := volState(t, v)
			s2 := must[Snapshot](t)(e.m.Create(ctx, name, "s2", CreateOptions{}))
			if d := diffStates(want, treeState(t, e.d.Chunks, s2.Root)); d != "" {
				t.Fatalf("snapshot after %s differs from the volume:\n%s", how, d)
			}
		})
	}
}
