package snapshots

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHooks(t *testing.T) {
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "hook.log")
	logHook := `echo "$CAIRN_HOOK $CAIRN_SNAPSHOT [$CAIRN_VOLUMES] $CAIRN_SNAPSHOT_STATUS" >> ` + out
	readLog := func() string {
		b, _ := os.ReadFile(out)
		os.Remove(out)
		return string(b)
	}

	t.Run("pre-hook failure aborts", func(t *testing.T) {
		e := newEnv(t)
		e.vol("a")
		_, err := e.m.Create(ctx, "a", "s", CreateOptions{PreHook: "echo frozen? no >&2; exit 3", PostHook: logHook})
		if err == nil || !strings.Contains(err.Error(), "pre-hook") || !strings.Contains(err.Error(), "exit status 3") ||
			!strings.Contains(err.Error(), "frozen? no") {
			t.Fatalf("got %v", err)
		}
		if l := must[[]Snapshot](t)(e.m.List(ctx, "")); len(l) != 0 {
			t.Fatalf("a snapshot was created: %v", l)
		}
		if log := readLog(); log != "" {
			t.Errorf("post-hook ran after a failed pre-hook: %q", log)
		}
	})

	t.Run("both hooks run and are recorded", func(t *testing.T) {
		e := newEnv(t)
		e.vol("a")
		e.vol("b")
		snaps := must[[]Snapshot](t)(e.m.CreateGroup(ctx, "g", []string{"a", "b"}, CreateOptions{PreHook: logHook, PostHook: logHook}))
		if log := readLog(); log != "pre g [a b] \npost g [a b] ok\n" {
			t.Errorf("hooks logged %q", log)
		}
		for _, s := range snaps {
			if len(s.Hooks) != 2 || s.Hooks[0].Phase != "pre" || s.Hooks[1].Phase != "post" || s.Hooks[1].Failed() {
				t.Errorf("%s records hooks %+v", s.Ref(), s.Hooks)
			}
		}
		got := must[Snapshot](t)(e.m.Get(ctx, "b@g"))
		if len(got.Hooks) != 2 || got.Hooks[1].Command != logHook {
			t.Errorf("stored hooks: %+v", got.Hooks)
		}
	})

	t.Run("post-hook runs when the cut fails", func(t *testing.T) {
		e := openEnv(t, t.TempDir(), Options{Freeze: func(context.Context, []uint64) (func(), error) { return nil, errors.New("client flush failed") }})
		e.vol("a")
		_, err := e.m.Create(ctx, "a", "s", CreateOptions{PreHook: logHook, PostHook: logHook})
		if err == nil || !strings.Contains(err.Error(), "client flush failed") {
			t.Fatalf("got %v", err)
		}
		if log := readLog(); log != "pre s [a] \npost s [a] failed\n" {
			t.Errorf("hooks logged %q", log)
		}
		if l := must[[]Snapshot](t)(e.m.List(ctx, "")); len(l) != 0 {
			t.Fatalf("a snapshot was created: %v", l)
		}
	})

	t.Run("post-hook failure keeps the snapshot", func(t *testing.T) {
		e := newEnv(t)
		e.vol("a")
		s, err := e.m.Create(ctx, "a", "s", CreateOptions{PostHook: "exit 1"})
		if !errors.Is(err, ErrPostHook) || s.Name != "s" {
			t.Fatalf("got %v, %+v", err, s)
		}
		got := must[Snapshot](t)(e.m.Get(ctx, "a@s"))
		if len(got.Hooks) != 1 || !got.Hooks[0].Failed() || got.Hooks[0].ExitCode != 1 {
			t.Errorf("recorded hooks %+v", got.Hooks)
		}
	})
}
