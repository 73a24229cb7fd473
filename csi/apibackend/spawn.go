package apibackend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// SpawnConfig says how to start a daemon when none answers.
type SpawnConfig struct {
	// Command is the program and its global flags; the daemon started
	// runs Command --data DataDir server --socket SOCKET Args...
	Command []string
	DataDir string
	// Args are more flags of `cairn server` (--no-nfs, mount tuning).
	Args []string
	// StateDir keeps daemon.json, the record of the daemon started, and
	// daemon.log, its output.
	StateDir string
	// Env is added to the daemon's environment.
	Env []string
	// Timeout bounds the wait for a new daemon to answer; default 60s.
	Timeout time.Duration
}

// started is the record of a daemon a plugin started.
type started struct {
	PID     int       `json:"pid"`
	Command []string  `json:"command"`
	Started time.Time `json:"started"`
}

func recordFile(stateDir string) string { return filepath.Join(stateDir, "daemon.json") }

// LogFile returns the file a started daemon writes its output to.
func LogFile(stateDir string) string { return filepath.Join(stateDir, "daemon.log") }

// StartedPID returns the process ID of the daemon last started with
// stateDir, and whether it still runs serving socket.
func StartedPID(stateDir, socket string) (int, bool) {
	b, err := os.ReadFile(recordFile(stateDir))
	if err != nil {
		return 0, false
	}
	var rec started
	if json.Unmarshal(b, &rec) != nil || rec.PID <= 0 {
		return 0, false
	}
	return rec.PID, running(rec.PID, socket)
}

// running reports whether pid is a live process serving socket, so that
// a reused process ID is not taken for the daemon.
func running(pid int, socket string) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil || bytes.Contains(stat, []byte(") Z ")) {
		return false
	}
	return bytes.Contains(cmdline, []byte(socket))
}

// argv is the command line of the daemon to start.
func (sc *SpawnConfig) argv(socket string) []string {
	argv := append([]string(nil), sc.Command...)
	argv = append(argv, "--data", sc.DataDir, "server", "--socket", socket)
	return append(argv, sc.Args...)
}

// spawn starts a daemon in its own session and process group, so that it
// and its mounts outlive this process and its signals, and waits until
// it answers.
func (d *Daemon) spawn(ctx context.Context) error {
	d.spawnMu.Lock()
	defer d.spawnMu.Unlock()
	if d.alive(ctx, 300*time.Millisecond) == nil {
		return nil // started by another call meanwhile
	}
	sc := d.cfg.Spawn
	timeout := sc.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	if pid, ok := StartedPID(sc.StateDir, d.socket); ok {
		// Still starting, or hung while holding the data directory (a
		// second daemon could not open it): wait for it, never kill it.
		if err := d.alive(ctx, timeout); err != nil {
			return fmt.Errorf("the daemon (pid %d) runs but does not answer: %w; see %s", pid, err, LogFile(sc.StateDir))
		}
		return nil
	}
	cmd, exited, err := d.start(sc)
	if err != nil {
		return err
	}
	return d.awaitStart(ctx, cmd.Process.Pid, exited, timeout)
}

// start runs the daemon's command, recording it in the state directory.
func (d *Daemon) start(sc *SpawnConfig) (*exec.Cmd, <-chan error, error) {
	if err := os.MkdirAll(sc.StateDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("start the daemon: %w", err)
	}
	logf, err := os.OpenFile(LogFile(sc.StateDir), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("start the daemon: %w", err)
	}
	defer logf.Close()
	argv := sc.argv(d.socket)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), sc.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start the daemon %v: %w", argv, err)
	}
	rec, _ := json.Marshal(started{PID: cmd.Process.Pid, Command: argv, Started: time.Now().UTC()})
	if err := os.WriteFile(recordFile(sc.StateDir), rec, 0o600); err != nil {
		d.log.Error("csi: recording the started daemon", "err", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reaps it; it outlives us otherwise
	d.log.Info("csi: started the cairn daemon", "pid", cmd.Process.Pid, "command", argv, "log", LogFile(sc.StateDir))
	return cmd, exited, nil
}

// awaitStart waits until the daemon started as pid answers, fails if it
// exits first or does not answer within timeout.
func (d *Daemon) awaitStart(ctx context.Context, pid int, exited <-chan error, timeout time.Duration) error {
	d.api.Reconnect()
	deadline := time.Now().Add(timeout)
	for {
		if d.alive(ctx, 500*time.Millisecond) == nil {
			return nil
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("the daemon exited at start (%v): %s", werr, tail(LogFile(d.cfg.Spawn.StateDir), 2048))
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return errors.Join(fmt.Errorf("the daemon (pid %d) did not answer within %v; see %s",
				pid, timeout, LogFile(d.cfg.Spawn.StateDir)), ctx.Err())
		}
		d.api.Reconnect()
	}
}

// tail returns the end of a file, for error messages.
func tail(name string, n int64) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return err.Error()
	}
	if int64(len(b)) > n {
		b = b[int64(len(b))-n:]
	}
	return string(bytes.TrimSpace(b))
}
