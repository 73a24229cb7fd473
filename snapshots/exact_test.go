package snapshots

import (
	"context"
	"math/rand/v2"
	"testing"
)

// A snapshot's tree equals the volume at the cut (content, holes, modes,
// times, xattrs, symlinks, hard links); restore brings it back exactly;
// a clone diverges without touching its origin or the snapshots.
func TestExactness(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.vol("a")
	rng := rand.New(rand.NewPCG(1, 2))
	randomOps(t, v, rng, 400)

	want1 := volState(t, v)
	s1 := must[Snapshot](t)(e.m.Create(ctx, "a", "s1", CreateOptions{}))
	if d := diffStates(want1, treeState(t, e.d.Chunks, s1.Root)); d != "" {
		t.Fatalf("snapshot s1 differs from the volume at the cut:\n%s", d)
	}
	inos := map[uint64]bool{}
	for _, f := range want1 {
		inos[f.Ino] = true
	}
	if s1.Usage.Inodes != uint64(len(inos)) {
		t.Errorf("s1 usage counts %d inodes; the tree has %d", s1.Usage.Inodes, len(inos))
	}

	// Change some, snapshot again: reused cached subtrees must still be exact.
	randomOps(t, v, rng, 150)
	want2 := volState(t, v)
	s2 := must[Snapshot](t)(e.m.Create(ctx, "a", "s2", CreateOptions{}))
	if d := diffStates(want2, treeState(t, e.d.Chunks, s2.Root)); d != "" {
		t.Fatalf("snapshot s2 differs from the volume at the cut:\n%s", d)
	}
	randomOps(t, v, rng, 100)

	// Restore s1: the volume is exactly as it was, and keeps its snapshots.
	e.closeVol(v)
	must[Snapshot](t)(e.m.Get(ctx, "a@s1"))
	if _, err := e.m.Restore(ctx, "a", "s1"); err != nil {
		t.Fatal(err)
	}
	v = e.open("a")
	if d := diffStates(want1, volState(t, v)); d != "" {
		t.Fatalf("restored volume differs from s1:\n%s", d)
	}
	if snaps := must[[]Snapshot](t)(e.m.List(ctx, "a")); len(snaps) != 2 {
		t.Fatalf("after restore, volume a has %d snapshots, want 2", len(snaps))
	}

	// A clone of s2 starts equal to it and diverges alone.
	must[any](t)(e.m.Clone(ctx, "a@s2", "c"))
	c := e.open("c")
	if d := diffStates(want2, volState(t, c)); d != "" {
		t.Fatalf("clone differs from s2:\n%s", d)
	}
	randomOps(t, c, rng, 200)
	randomOps(t, v, rng, 50) // and the origin too, independently
	want3 := volState(t, v)
	if d := diffStates(want1, treeState(t, e.d.Chunks, s1.Root)); d != "" {
		t.Fatalf("s1 changed:\n%s", d)
	}
	if d := diffStates(want2, treeState(t, e.d.Chunks, s2.Root)); d != "" {
		t.Fatalf("s2 changed:\n%s", d)
	}
	s3 := must[Snapshot](t)(e.m.Create(ctx, "a", "s3", CreateOptions{}))
	if d := diffStates(want3, treeState(t, e.d.Chunks, s3.Root)); d != "" {
		t.Fatalf("origin was touched by its clone:\n%s", d)
	}
	cs := must[Snapshot](t)(e.m.Create(ctx, "c", "after", CreateOptions{}))
	if d := diffStates(volState(t, c), treeState(t, e.d.Chunks, cs.Root)); d != "" {
		t.Fatalf("snapshot of the clone differs from it:\n%s", d)
	}
	rep := must[fsckReport](t)(fsck(e))
	if len(rep) > 0 {
		t.Fatalf("fsck: %v", rep)
	}
}
