package snapshots

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRunHook(t *testing.T) {
	ctx := context.Background()
	t.Run("environment and output", func(t *testing.T) {
		r := RunHook(ctx, HookSpec{Phase: "post", Command: `echo "$CAIRN_HOOK $CAIRN_SNAPSHOT [$CAIRN_VOLUMES] $CAIRN_SNAPSHOT_STATUS"`,
			Snapshot: "s", Volumes: []string{"a", "b"}, Status: "ok"})
		if r.Failed() || r.ExitCode != 0 || r.Output != "post s [a b] ok\n" || r.Phase != "post" {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("exit status", func(t *testing.T) {
		r := RunHook(ctx, HookSpec{Phase: "pre", Command: "echo no >&2; exit 3"})
		if !r.Failed() || r.ExitCode != 3 || r.Output != "no\n" || !strings.Contains(r.Error, "exit status 3") {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		r := RunHook(ctx, HookSpec{Phase: "pre", Command: "sleep 10", Timeout: 100 * time.Millisecond})
		if !r.Failed() || !strings.Contains(r.Error, "timed out after 100ms") {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("output tail", func(t *testing.T) {
		r := RunHook(ctx, HookSpec{Phase: "pre", Command: "head -c 10000 /dev/zero | tr '\\0' x; echo END"})
		if len(r.Output) != hookOutputMax+3 || !strings.HasPrefix(r.Output, "...") || !strings.HasSuffix(r.Output, "xEND\n") {
			t.Fatalf("output of %d bytes: %.20q...", len(r.Output), r.Output)
		}
	})
	t.Run("post-hook runs after cancel", func(t *testing.T) {
		done, cancel := context.WithCancel(ctx)
		cancel()
		if r := RunHook(done, HookSpec{Phase: "post", Command: "true"}); r.Failed() {
			t.Fatalf("post-hook: %+v", r)
		}
		if r := RunHook(done, HookSpec{Phase: "pre", Command: "true"}); !r.Failed() {
			t.Fatalf("pre-hook ran after cancel: %+v", r)
		}
	})
}

func TestRunHooks(t *testing.T) {
	ctx := context.Background()
	status := `echo "$CAIRN_SNAPSHOT_STATUS"`
	cutErr := errors.New("cut failed")
	for _, tc := range []struct {
		name       string
		pre, post  string
		cut        error
		wantCut    bool
		wantStatus string // the post-hook's output
		wantErr    string
		postHook   bool // errors.Is(err, ErrPostHook)
	}{
		{name: "no hooks", wantCut: true},
		{name: "both ok", pre: "true", post: status, wantCut: true, wantStatus: "ok\n"},
		{name: "pre fails", pre: "exit 2", post: status, wantErr: "snapshot s not taken: pre-hook"},
		{name: "cut fails", pre: "true", post: status, cut: cutErr, wantCut: true, wantStatus: "failed\n", wantErr: "cut failed"},
		{name: "cut and post fail", post: status + "; exit 1", cut: cutErr, wantCut: true, wantStatus: "failed\n",
			wantErr: "post-hook"},
		{name: "post fails", post: status + "; exit 1", wantCut: true, wantStatus: "ok\n", wantErr: "post-hook", postHook: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cut := false
			ran, err := RunHooks(ctx, CutHooks{Pre: tc.pre, Post: tc.post, Snapshot: "s", Volumes: []string{"v"}},
				func(pre []HookRun) error {
					cut = true
					if tc.pre != "" && (len(pre) != 1 || pre[0].Phase != "pre") {
						t.Errorf("cut given %+v", pre)
					}
					return tc.cut
				})
			if cut != tc.wantCut {
				t.Fatalf("cut called: %v", cut)
			}
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("got error %v, want %q", err, tc.wantErr)
			}
			if errors.Is(err, ErrPostHook) != tc.postHook || (tc.cut != nil && !errors.Is(err, tc.cut)) {
				t.Fatalf("error %v: wraps ErrPostHook %v, the cut's error %v", err, errors.Is(err, ErrPostHook), errors.Is(err, tc.cut))
			}
			if tc.wantStatus != "" && (len(ran) == 0 || ran[len(ran)-1].Output != tc.wantStatus) {
				t.Fatalf("post-hook ran %+v, want output %q", ran, tc.wantStatus)
			}
		})
	}
}

func TestAddHooks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.vol("a")
	e.vol("b")
	pre := HookRun{Phase: "pre", Command: "freeze"}
	must[[]Snapshot](t)(e.m.CreateGroup(ctx, "g", []string{"a", "b"}, CreateOptions{Hooks: []HookRun{pre}}))
	post := HookRun{Phase: "post", Command: "thaw", Error: "exit status 1", ExitCode: 1}
	got := must[[]Snapshot](t)(e.m.AddHooks(ctx, []string{"a@g", "b@g"}, []HookRun{post}))
	if len(got) != 2 || len(got[1].Hooks) != 2 || got[1].Hooks[1].Command != "thaw" {
		t.Fatalf("got %+v", got)
	}
	stored := must[Snapshot](t)(e.m.Get(ctx, "a@g"))
	if len(stored.Hooks) != 2 || stored.Hooks[0] != pre || stored.Hooks[1] != post {
		t.Fatalf("stored hooks %+v", stored.Hooks)
	}
	for _, bad := range []struct {
		refs  []string
		hooks []HookRun
		want  error
	}{
		{refs: []string{"a@nope"}, hooks: []HookRun{post}, want: ErrNotFound},
		{refs: []string{"a@g", "a@g"}, hooks: []HookRun{post}, want: ErrInvalid},
		{refs: nil, hooks: []HookRun{post}, want: ErrInvalid},
		{refs: []string{"a@g"}, hooks: []HookRun{{Phase: "during", Command: "x"}}, want: ErrInvalid},
	} {
		if _, err := e.m.AddHooks(ctx, bad.refs, bad.hooks); !errors.Is(err, bad.want) {
			t.Errorf("AddHooks(%v, %+v): got %v, want %v", bad.refs, bad.hooks, err, bad.want)
		}
	}
	if stored := must[Snapshot](t)(e.m.Get(ctx, "a@g")); len(stored.Hooks) != 2 {
		t.Fatalf("a failed AddHooks changed the record: %+v", stored.Hooks)
	}
}
