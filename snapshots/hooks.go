package snapshots

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// hookOutputMax is how much of a hook's output a record keeps (the end).
const hookOutputMax = 4 << 10

// DefaultHookTimeout bounds a hook when no timeout is given.
const DefaultHookTimeout = 10 * time.Minute

// HookSpec is one hook to run and what it is told about the snapshot.
type HookSpec struct {
	Phase    string   // "pre" or "post"
	Command  string   // run as Shell -c Command
	Snapshot string   // CAIRN_SNAPSHOT: the snapshot (or group) name
	Volumes  []string // CAIRN_VOLUMES: the volumes being cut
	Status   string   // CAIRN_SNAPSHOT_STATUS of a post-hook: "ok" or "failed"
	Shell    string   // default "sh"
	// Timeout kills the hook after this long; default DefaultHookTimeout.
	Timeout time.Duration
}

// RunHook runs a hook with Shell -c, in this process's environment plus
// CAIRN_SNAPSHOT, CAIRN_VOLUMES (space-separated), CAIRN_HOOK (pre or
// post) and, for post-hooks, CAIRN_SNAPSHOT_STATUS. It is killed after
// Timeout. A post-hook runs even when ctx is done, so an application
// frozen by a pre-hook is always thawed. The run's record holds the end
// of its output; Error is set if it failed.
func RunHook(ctx context.Context, h HookSpec) HookRun {
	if h.Shell == "" {
		h.Shell = "sh"
	}
	if h.Timeout <= 0 {
		h.Timeout = DefaultHookTimeout
	}
	run := HookRun{Phase: h.Phase, Command: h.Command}
	if h.Phase == "post" {
		ctx = context.WithoutCancel(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	c := exec.CommandContext(ctx, h.Shell, "-c", h.Command)
	c.Env = append(os.Environ(),
		"CAIRN_SNAPSHOT="+h.Snapshot,
		"CAIRN_VOLUMES="+strings.Join(h.Volumes, " "),
		"CAIRN_HOOK="+h.Phase)
	if h.Status != "" {
		c.Env = append(c.Env, "CAIRN_SNAPSHOT_STATUS="+h.Status)
	}
	out := &tailBuffer{max: hookOutputMax}
	c.Stdout, c.Stderr = out, out
	c.WaitDelay = 5 * time.Second // don't hang on grandchildren holding the pipes
	start := time.Now()
	err := c.Run()
	run.Duration = time.Since(start)
	run.Output = out.String()
	run.ExitCode = c.ProcessState.ExitCode()
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %s: %w", h.Timeout, err)
		}
		run.Error = err.Error()
	}
	return run
}

// CutHooks are the pre- and post-hook around one cut, as RunHooks runs
// them: in the daemon for scheduled snapshots, in the CLI otherwise.
type CutHooks struct {
	Pre, Post string        // "" for none
	Snapshot  string        // the snapshot (or group) name
	Volumes   []string      // the volumes being cut
	Shell     string        // default "sh"
	Timeout   time.Duration // per hook; default DefaultHookTimeout
	Logger    *slog.Logger  // logs each run; nil for none
}

// RunHooks runs the pre-hook, then cut (given the hooks run so far), then
// the post-hook, even if the cut failed (CAIRN_SNAPSHOT_STATUS=failed).
// If the pre-hook fails, cut is not called and the error says that the
// snapshot was not taken. If the cut fails, its error is returned (joined
// with the post-hook's failure if any). If only the post-hook fails, the
// error wraps ErrPostHook: the snapshot was taken. The hooks run are
// returned in every case.
func RunHooks(ctx context.Context, h CutHooks, cut func(ran []HookRun) error) ([]HookRun, error) {
	var ran []HookRun
	if h.Pre != "" {
		r := h.run(ctx, "pre", h.Pre, "")
		if r.Failed() {
			return []HookRun{r}, fmt.Errorf("snapshot %s not taken: %w", h.Snapshot, hookError(r))
		}
		ran = append(ran, r)
	}
	cutErr := cut(ran)
	if h.Post == "" {
		return ran, cutErr
	}
	status := "ok"
	if cutErr != nil {
		status = "failed"
	}
	post := h.run(ctx, "post", h.Post, status)
	ran = append(ran, post)
	switch {
	case cutErr != nil && post.Failed():
		return ran, errors.Join(cutErr, hookError(post))
	case cutErr != nil:
		return ran, cutErr
	case post.Failed():
		return ran, fmt.Errorf("%w: %w", ErrPostHook, hookError(post))
	}
	return ran, nil
}

// run runs one of the hooks and logs it.
func (h CutHooks) run(ctx context.Context, phase, cmd, status string) HookRun {
	r := RunHook(ctx, HookSpec{Phase: phase, Command: cmd, Snapshot: h.Snapshot, Volumes: h.Volumes,
		Status: status, Shell: h.Shell, Timeout: h.Timeout})
	if h.Logger != nil {
		h.Logger.Info("snapshot hook ran", "phase", phase, "command", cmd, "exit", r.ExitCode,
			"duration", r.Duration, "err", r.Error)
	}
	return r
}

// hookError describes a failed hook for an error message.
func hookError(h HookRun) error {
	msg := fmt.Sprintf("%s-hook %q failed: %s", h.Phase, h.Command, h.Error)
	if out := strings.TrimSpace(h.Output); out != "" {
		msg += "; output: " + out
	}
	return errors.New(msg)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
	cut bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
		t.cut = true
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cut {
		return "..." + t.buf.String()
	}
	return t.buf.String()
}
