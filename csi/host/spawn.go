package host

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

	"github.com/cairn-storage/cairn/csi"
)

// SpawnConfig says how a client starts its host.
type SpawnConfig struct {
	// Command runs a host; the client appends --data DIR --socket PATH
	// (`cairn csi host` takes them).
	Command []string
	// DataDir is the data directory the host opens.
	DataDir string
	// StateDir keeps host.json, the record of the host started, and
	// host.log, its output.
	StateDir string
	// Env is added to the host's environment.
	Env []string
	// Timeout bounds the wait for a new host to answer; default 60s.
	Timeout time.Duration
}

// started is the record of a host a client started.
type started struct {
	PID     int       `json:"pid"`
	Command []string  `json:"command"`
	Started time.Time `json:"started"`
}

// recordFile and logFile are the spawn record and the host's output.
func recordFile(stateDir string) string { return filepath.Join(stateDir, "host.json") }

// LogFile returns the file a spawned host writes its output to.
func LogFile(stateDir string) string { return filepath.Join(stateDir, "host.log") }

// StartedPID returns the process ID of the host last started with
// stateDir, if it is still running.
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

// running reports whether pid is a live host serving socket (so a reused
// process ID is not mistaken for it).
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

// spawn starts a host in its own session and process group, so that it
// outlives this process and its signals, and waits until it answers.
func (c *Client) spawn(ctx context.Context) error {
	c.spawnMu.Lock()
	defer c.spawnMu.Unlock()
	if c.probe(ctx, 300*time.Millisecond) == nil {
		return nil // started by another call meanwhile
	}
	sc := c.cfg.Spawn
	timeout := sc.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	_, socket, _ := csi.ParseEndpoint(c.cfg.Endpoint)
	if pid, ok := StartedPID(sc.StateDir, socket); ok {
		// Still starting, or hung while holding the data directory (a
		// second host could not open it): wait for it, never kill it.
		if err := c.probe(ctx, timeout); err != nil {
			return fmt.Errorf("host (pid %d) runs but does not answer: %w; see %s", pid, err, LogFile(sc.StateDir))
		}
		return nil
	}
	if err := os.MkdirAll(sc.StateDir, 0o700); err != nil {
		return fmt.Errorf("start host: %w", err)
	}
	logf, err := os.OpenFile(LogFile(sc.StateDir), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start host: %w", err)
	}
	defer logf.Close()
	argv := append(append([]string(nil), sc.Command...), "--data", sc.DataDir, "--socket", socket)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), sc.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start host %v: %w", argv, err)
	}
	rec, _ := json.Marshal(started{PID: cmd.Process.Pid, Command: argv, Started: time.Now().UTC()})
	if err := os.WriteFile(recordFile(sc.StateDir), rec, 0o600); err != nil {
		c.log.Error("host: recording the started host", "err", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reaps it; the host outlives us otherwise
	c.log.Info("host: started", "pid", cmd.Process.Pid, "command", argv, "log", LogFile(sc.StateDir))
	c.conn.ResetConnectBackoff()
	deadline := time.Now().Add(timeout)
	for {
		err := c.probe(ctx, 500*time.Millisecond)
		if err == nil {
			return nil
		}
		if !down(err) {
			// It answers, unhealthy (still reaching its storage, say):
			// ask again in a while rather than at once.
			time.Sleep(200 * time.Millisecond)
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("host exited at start (%v): %s", werr, tail(LogFile(sc.StateDir), 2048))
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return errors.Join(fmt.Errorf("host (pid %d) did not answer within %v; see %s", cmd.Process.Pid, timeout, LogFile(sc.StateDir)), ctx.Err())
		}
		c.conn.ResetConnectBackoff()
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
