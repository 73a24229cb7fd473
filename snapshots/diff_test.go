package snapshots

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/fs"
	"github.com/cairn-storage/cairn/fs/meta"
)

func TestDiff(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.vol("a")
	docs := mkdir(t, v, fs.RootIno, "docs")
	old := mkdir(t, v, fs.RootIno, "old")
	sub := mkdir(t, v, old, "sub")
	writeFile(t, v, docs, "keep", []byte("same"), 0)
	writeFile(t, v, docs, "edit", []byte("v1"), 0)
	writeFile(t, v, docs, "gone", []byte("bye"), 0)
	writeFile(t, v, docs, "moveme", []byte("mv"), 0)
	writeFile(t, v, sub, "deep", []byte("deep"), 0)
	chm := writeFile(t, v, fs.RootIno, "chmod", []byte("x"), 0)
	must[Snapshot](t)(e.m.Create(ctx, "a", "s1", CreateOptions{}))

	writeAt(t, v, lookup(t, v, "docs/edit"), []byte("v2"), 0)
	check(t, v.Unlink(ctx, nil, docs, "gone"))
	check(t, v.Rename(ctx, nil, docs, "moveme", fs.RootIno, "moved", 0))
	check(t, v.Rename(ctx, nil, fs.RootIno, "old", fs.RootIno, "new", 0))
	writeAt(t, v, lookup(t, v, "new/sub/deep"), []byte("DEEP"), 0)
	mode := uint32(0o600)
	must[fs.Attr](t)(v.SetAttr(ctx, nil, chm, fs.SetAttrIn{Mode: &mode}))
	fresh := mkdir(t, v, fs.RootIno, "fresh")
	writeFile(t, v, fresh, "f", []byte("new"), 0)
	must[Snapshot](t)(e.m.Create(ctx, "a", "s2", CreateOptions{}))

	want := []string{
		"added /fresh", "added /fresh/f",
		"modified /", "modified /chmod", "modified /docs", "modified /docs/edit",
		"modified /new/sub/deep",
		"removed /docs/gone",
		"renamed /docs/moveme -> /moved", "renamed /old -> /new",
	}
	check := func(res DiffResult) {
		t.Helper()
		var got []string
		for _, c := range res.Changes {
			s := c.Type + " " + c.Path
			if c.From != "" {
				s = c.Type + " " + c.From + " -> " + c.Path
			}
			got = append(got, s)
		}
		sort.Strings(got)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("diff %s %s:\n%s\nwant:\n%s", res.From, res.To, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if res.Added != 2 || res.Removed != 1 || res.Renamed != 2 || res.Modified != 5 {
			t.Errorf("counts %d/%d/%d/%d", res.Added, res.Removed, res.Renamed, res.Modified)
		}
		b, err := json.Marshal(res)
		if err != nil || !strings.Contains(string(b), `"type":"renamed","path":"/new","from":"/old","kind":"dir"`) {
			t.Errorf("json: %s (%v)", b, err)
		}
	}
	check(must[DiffResult](t)(e.m.Diff(ctx, "a@s1", "a@s2")))
	// Against the live volume, which equals s2.
	check(must[DiffResult](t)(e.m.Diff(ctx, "a@s1", "a")))
	// No changes.
	if res := must[DiffResult](t)(e.m.Diff(ctx, "a@s2", "a")); len(res.Changes) != 0 {
		t.Fatalf("diff of equal trees: %+v", res.Changes)
	}
}

func TestRestoreResume(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.vol("a")
	writeFile(t, v, fs.RootIno, "f", []byte("1"), 0)
	s := must[Snapshot](t)(e.m.Create(ctx, "a", "s", CreateOptions{}))
	e.closeVol(v)
	// A crash between the filesystem's restore and the move of the records:
	// the intent is there, the volume has its new ID.
	check(t, e.m.kv.Update(ctx, func(tx meta.Txn) error {
		return tx.Set(auxKey(auxRestore, "a"), fmt.Appendf(nil, `{"old_id":%d,"snapshot":"a@s"}`, s.VolumeID))
	}))
	info := must[fs.VolumeInfo](t)(e.d.FS.RestoreVolume(ctx, "a", s.Root, s.MaxIno))
	if l := must[[]Snapshot](t)(e.m.List(ctx, "a")); len(l) != 0 {
		t.Fatalf("records moved before Resume: %v", l)
	}
	check(t, e.m.Resume(ctx))
	l := must[[]Snapshot](t)(e.m.List(ctx, "a"))
	if len(l) != 1 || l[0].VolumeID != info.ID {
		t.Fatalf("after Resume: %+v", l)
	}
	check(t, e.m.Resume(ctx)) // idempotent
	if _, err := e.m.Get(ctx, "a@s"); err != nil {
		t.Fatal(err)
	}
}

func TestRecordJSON(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.vol("a")
	s := must[Snapshot](t)(e.m.Create(ctx, "a", "s", CreateOptions{Labels: map[string]string{"x": "y"}}))
	b := must[[]byte](t)(json.Marshal(s))
	for _, key := range []string{`"name":"s"`, `"volume":"a"`, `"max_ino":`, `"Node":"` + s.Root.Node.String() + `"`, `"labels":{"x":"y"}`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("record JSON lacks %s: %s", key, b)
		}
	}
	var back Snapshot
	check(t, json.Unmarshal(b, &back))
	if back.Root != s.Root || back.Name != s.Name || !back.Created.Equal(s.Created) {
		t.Errorf("round trip: %+v != %+v", back, s)
	}
	for _, bad := range []string{"a", "a@", "@s", "a@s@t", "a@.s", "a b@s"} {
		if _, _, err := ParseRef(bad); err == nil {
			t.Errorf("ParseRef(%q) accepted", bad)
		}
	}
}
