package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// How long a server may take to mount, and to unmount and exit after
// SIGTERM (cairn flushes buffered writes first).
const (
	mountTimeout = 60 * time.Second
	stopTimeout  = 2 * time.Minute
)

// server is a FUSE server process serving one mount point: bin/cairn, or
// the bench itself in loopback mode. Each start runs a new process, in
// its own process group so that a Ctrl-C reaches only the bench, which
// then stops the servers in order.
type server struct {
	name    string
	mnt     string   // the mount point
	argv    []string // program and arguments
	logPath string   // its stdout and stderr, appended across restarts
	nfsAddr string   // its NFS gateway's address; "" if it serves none

	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited
	waitErr error         // cmd's exit status, set before exited closes
}

// start runs the server and waits until its mount appears.
func (s *server) start(ctx context.Context) error {
	if s.cmd != nil {
		return fmt.Errorf("%s already running", s.name)
	}
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = serverProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", s.name, err)
	}
	exited := make(chan struct{})
	s.cmd, s.exited = cmd, exited
	go func() {
		s.waitErr = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	err = waitMounted(ctx, s.mnt, exited, mountTimeout)
	if err == nil && s.nfsAddr != "" {
		err = waitListening(ctx, s.nfsAddr, exited, mountTimeout)
	}
	if err != nil {
		return errors.Join(fmt.Errorf("%s: %w%s", s.name, err, s.logTail()), s.stop())
	}
	return nil
}

// pid returns the server's process ID, or 0 if it is not running.
func (s *server) pid() int {
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// stop sends SIGTERM and waits for a clean unmount and exit. A server
// that hangs gets its mount detached (fusermount3 -u, umount, umount -l)
// and then SIGKILL. Whatever happens, nothing stays mounted.
func (s *server) stop() error {
	if s.cmd == nil {
		return forceUnmount(s.mnt)
	}
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	var errs []error
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(stopTimeout):
		errs = append(errs, fmt.Errorf("%s (pid %d) still running %v after SIGTERM", s.name, cmd.Process.Pid, stopTimeout))
		_ = forceUnmount(s.mnt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	if s.waitErr != nil {
		errs = append(errs, fmt.Errorf("%s exited: %w%s", s.name, s.waitErr, s.logTail()))
	}
	if err := forceUnmount(s.mnt); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// logTail returns the end of the server's log, for error messages.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\n--- " + s.logPath + " (end) ---\n" + string(bytes.TrimSpace(b))
}

// target is one file system under test: a directory the workloads use,
// and the server behind it (nil for the plain directory). The NFS targets
// share the cairn target's server; their directory is in its mount.
type target struct {
	name string
	dir  string
	srv  *server
	dead error // set when the server could not be restarted
}

// coldStart leaves the target with cold caches: it stops the server (if
// any), drops the kernel's caches and starts the server again. Problems
// that leave the target usable (a failed drop_caches, a server that exited
// uncleanly) come back as warnings; err is set only if the target is down.
func (t *target) coldStart(ctx context.Context) (warnings []error, err error) {
	if t.srv != nil {
		if err := t.srv.stop(); err != nil {
			warnings = append(warnings, err)
		}
	}
	if err := dropCaches(); err != nil {
		warnings = append(warnings, err)
	}
	if t.srv != nil {
		err = t.srv.start(ctx)
	}
	return warnings, err
}

// restart stops and starts the server, to recover after an error; a
// failure to stop cleanly is a warning.
func (t *target) restart(ctx context.Context) (warning, err error) {
	if t.srv == nil {
		return nil, nil
	}
	return t.srv.stop(), t.srv.start(ctx)
}

// metricsAddr returns the --metrics address of a cairn server, or "".
func (s *server) metricsAddr() string {
	for i, a := range s.argv {
		if a == "--metrics" && i+1 < len(s.argv) {
			return s.argv[i+1]
		}
	}
	return ""
}
