package snapshots

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// hookOutputMax is how much of a hook's output a record keeps (the end).
const hookOutputMax = 4 << 10

// hookEnv describes the snapshot to a hook.
type hookEnv struct {
	snapshot string   // snapshot (or group) name
	volumes  []string // volumes being cut
	status   string   // post-hooks: "ok" or "failed"
}

// runHook runs cmd with Shell -c, with CAIRN_SNAPSHOT, CAIRN_VOLUMES
// (space-separated), CAIRN_HOOK (pre or post) and, for post-hooks,
// CAIRN_SNAPSHOT_STATUS in its environment. A hook is killed after
// HookTimeout. Post-hooks run even when ctx is done, so an application
// frozen by a pre-hook is always thawed.
func (m *Manager) runHook(ctx context.Context, phase, cmd string, env hookEnv) HookRun {
	run := HookRun{Phase: phase, Command: cmd}
	if phase == "post" {
		ctx = context.WithoutCancel(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, m.opts.HookTimeout)
	defer cancel()
	c := exec.CommandContext(ctx, m.opts.Shell, "-c", cmd)
	c.Env = append(os.Environ(),
		"CAIRN_SNAPSHOT="+env.snapshot,
		"CAIRN_VOLUMES="+strings.Join(env.volumes, " "),
		"CAIRN_HOOK="+phase)
	if env.status != "" {
		c.Env = append(c.Env, "CAIRN_SNAPSHOT_STATUS="+env.status)
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
			err = fmt.Errorf("timed out after %s: %w", m.opts.HookTimeout, err)
		}
		run.Error = err.Error()
	}
	m.log.Info("snapshot hook ran", "phase", phase, "command", cmd, "exit", run.ExitCode,
		"duration", run.Duration, "err", run.Error)
	return run
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
