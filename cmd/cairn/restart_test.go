package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testServer is a `cairn server` process of TestServerRestart.
type testServer struct {
	cmd    *exec.Cmd
	log    string        // its log file
	exited chan struct{} // closed when it has exited; err is then set
	err    error
	termAt time.Time // when term sent SIGTERM
}

// startServer starts `cairn args...`; the test's end stops it if needed.
func startServer(t *testing.T, name string, args ...string) *testServer {
	t.Helper()
	s := &testServer{cmd: startCairn(t, name, args...), exited: make(chan struct{})}
	s.log = s.cmd.Stdout.(*os.File).Name()
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	// Runs before startCairn's cleanup, which then finds the process
	// waited for instead of racing this goroutine's Wait.
	t.Cleanup(func() {
		if _, err := s.stop(30 * time.Second); err != nil {
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
	return s
}

// stop sends SIGTERM and waits up to timeout for the exit; it returns how
// long the process took to exit.
func (s *testServer) stop(timeout time.Duration) (time.Duration, error) {
	s.term()
	return s.wait(timeout)
}

// term sends SIGTERM, once: a second one would only be logged after the
// "stopped" line.
func (s *testServer) term() {
	if s.termAt.IsZero() {
		s.termAt = time.Now()
		s.cmd.Process.Signal(syscall.SIGTERM)
	}
}

// wait waits up to timeout for the exit after term; it returns how long
// the process took to exit since term.
func (s *testServer) wait(timeout time.Duration) (time.Duration, error) {
	select {
	case <-s.exited:
		return time.Since(s.termAt), s.err
	case <-time.After(timeout):
		return time.Since(s.termAt), fmt.Errorf("still running %s after SIGTERM", timeout)
	}
}

// waitUp waits until the server has mounted dir, failing at once if it
// exits first.
func (s *testServer) waitUp(t *testing.T, dir string) time.Duration {
	t.Helper()
	start := time.Now()
	for deadline := start.Add(60 * time.Second); time.Now().Before(deadline); {
		if n := mountCount(t, dir); n > 1 {
			t.Fatalf("%s mounted %d times: a stale mount was left behind", dir, n)
		} else if n == 1 {
			return time.Since(start)
		}
		select {
		case <-s.exited:
			t.Fatalf("server exited before mounting %s: %v", dir, s.err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s not mounted within 60s", dir)
	return 0
}

// mountCount is how many mounts /proc/self/mountinfo lists at dir.
func mountCount(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), " "+dir+" ")
}

// lines are the lines of the server's log.
func (s *testServer) lines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(s.log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// lastLine is the last line of the server's log.
func (s *testServer) lastLine(t *testing.T) string {
	lines := s.lines(t)
	return lines[len(lines)-1]
}

// logLine is the first line of the server's log that contains msg, or "".
func (s *testServer) logLine(t *testing.T, msg string) string {
	for _, l := range s.lines(t) {
		if strings.Contains(l, msg) {
			return l
		}
	}
	return ""
}

// TestServerRestart stops `cairn server` with SIGTERM and starts it again
// at once, ten times, with a file written through the FUSE mount in each
// round. Odd rounds start the next server before the old one has exited,
// as a quick restart by hand does: it must wait for the data directory
// rather than fail. Every start mounts, every stop leaves no mount and
// ends its log with "stopped", and at the end fsck is clean and every
// file reads back.
func TestServerRestart(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for FUSE mounts")
	}
	dir := t.TempDir()
	data, mnt := filepath.Join(dir, "data"), filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"--data", data, "server", "--volume", "default", "--mount", mnt,
		"--nfs-listen", freeAddr(t), "--metrics", freeAddr(t)}
	const rounds = 10
	files := map[string][]byte{}
	srv := startServer(t, "server-00.log", args...)
	srv.waitUp(t, mnt)
	for i := range rounds {
		name := fmt.Sprintf("round-%02d", i)
		files[name] = writeRandom(t, filepath.Join(mnt, name), 256<<10+i)
		overlap := i%2 == 1
		next, took := restart(t, srv, fmt.Sprintf("server-%02d.log", i+1), overlap, args)
		up := next.waitUp(t, mnt)
		t.Logf("round %d: stop took %s, next server mounted %s later (overlapping: %v) %s",
			i, took, up, overlap, next.logLine(t, "data directory released"))
		checkFiles(t, mnt, files)
		if n := mountCount(t, mnt); n != 1 {
			t.Fatalf("round %d: %s mounted %d times", i, mnt, n)
		}
		srv = next
	}
	if _, err := srv.stop(30 * time.Second); err != nil {
		t.Fatalf("last server: %v", err)
	}
	checkStopped(t, srv, mnt)
	if out, err := cairnCommand(t, "--data", data, "fsck").CombinedOutput(); err != nil {
		t.Fatalf("fsck: %v\n%s", err, out)
	}
}

// restart sends SIGTERM to srv and starts the next server: once srv has
// exited, or right away if overlap. It returns the next server and how
// long srv took to exit.
func restart(t *testing.T, srv *testServer, log string, overlap bool, args []string) (*testServer, time.Duration) {
	t.Helper()
	var next *testServer
	srv.term()
	if overlap {
		next = startServer(t, log, args...)
	}
	took, err := srv.wait(30 * time.Second)
	if err != nil {
		t.Fatalf("stopping the server: %v", err)
	}
	if overlap {
		// The next server may have mounted already; a mount srv left
		// behind would show as a second one (waitUp), or fail the reads.
		checkStopped(t, srv, "")
	} else {
		checkStopped(t, srv, mnt(args))
		next = startServer(t, log, args...)
	}
	return next, took
}

// mnt is the --mount of a server's args.
func mnt(args []string) string {
	for i, a := range args[:len(args)-1] {
		if a == "--mount" {
			return args[i+1]
		}
	}
	return ""
}

// checkStopped checks that srv exited cleanly with "stopped" as its last
// log line and, if mnt is given, left nothing mounted there.
func checkStopped(t *testing.T, srv *testServer, mnt string) {
	t.Helper()
	if line := srv.lastLine(t); !strings.Contains(line, "msg=stopped") {
		t.Errorf("server's last log line is %q; want the stopped message", line)
	}
	if mnt != "" && mountCount(t, mnt) != 0 {
		t.Fatalf("%s still mounted after the server exited", mnt)
	}
}

func writeRandom(t *testing.T, path string, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// checkFiles reads every file back through the mount.
func checkFiles(t *testing.T, mnt string, files map[string][]byte) {
	t.Helper()
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(mnt, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: read %d bytes (%v), want the %d written", name, len(got), err, len(want))
		}
	}
}
