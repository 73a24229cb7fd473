//go:build dockercluster

package cluster

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ack is one acknowledged COMMIT of the probe: records 0..seq are durable.
type ack struct {
	seq        int64
	sent, done time.Time
}

// writeErr is one failed call the probe reported.
type writeErr struct {
	kind, msg string
	at        time.Time
}

// writer is a `probe write` running in the gateway container, its output
// parsed as it comes.
type writer struct {
	t     *testing.T
	file  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}

	mu      sync.Mutex
	acks    []ack
	errs    []writeErr
	summary string
	other   []string // lines the parser did not know
}

// startWriter starts the probe writing file through the gateway; it runs
// until stop (or for at most budget).
func (s *stack) startWriter(t *testing.T, file string, budget time.Duration) *writer {
	w := &writer{t: t, file: file, done: make(chan struct{})}
	w.cmd = exec.Command("docker", "exec", "-i", s.ids["gateway"], "/probe", "write",
		"-file", file, "-duration", budget.String())
	var err error
	if w.stdin, err = w.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	w.cmd.Stderr = w.cmd.Stdout
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.Create(filepath.Join(s.logDir, file+".probe"))
	if err != nil {
		t.Fatal(err)
	}
	go w.parse(out, raw)
	t.Cleanup(func() { w.stop() })
	return w
}

// parse reads the probe's output, keeping a copy in raw.
func (w *writer) parse(r io.Reader, raw *os.File) {
	defer close(w.done)
	defer raw.Close()
	sc := bufio.NewScanner(io.TeeReader(r, raw))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		w.mu.Lock()
		switch {
		case len(f) == 4 && f[0] == "ack":
			seq, _ := strconv.ParseInt(f[1], 10, 64)
			w.acks = append(w.acks, ack{seq: seq, sent: stamp(f[2]), done: stamp(f[3])})
		case len(f) >= 3 && f[0] == "err":
			w.errs = append(w.errs, writeErr{kind: f[1], msg: strings.Join(f[2:len(f)-1], " "), at: stamp(f[len(f)-1])})
		case len(f) > 0 && f[0] == "done":
			w.summary = line
		default:
			w.other = append(w.other, line)
		}
		w.mu.Unlock()
	}
}

// stamp parses "key=UNIXNANO".
func stamp(kv string) time.Time {
	_, v, _ := strings.Cut(kv, "=")
	n, _ := strconv.ParseInt(v, 10, 64)
	return time.Unix(0, n)
}

// stop closes the probe's input, waits for its summary and returns it.
func (w *writer) stop() string {
	w.stdin.Close()
	select {
	case <-w.done:
	case <-time.After(90 * time.Second): // a call may hang for -timeout (60 s)
		w.cmd.Process.Kill()
		<-w.done
	}
	w.cmd.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.summary == "" && len(w.other) > 0 {
		w.t.Logf("probe %s said: %s", w.file, strings.Join(w.other, "\n"))
	}
	return w.summary
}

// acked returns the highest acknowledged record (-1: none).
func (w *writer) acked() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.acks) == 0 {
		return -1
	}
	return w.acks[len(w.acks)-1].seq
}

// waitAcks waits until n more COMMITs than now are acknowledged.
func (w *writer) waitAcks(n int, timeout time.Duration) error {
	w.mu.Lock()
	want := len(w.acks) + n
	w.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		got := len(w.acks)
		w.mu.Unlock()
		if got >= want {
			return nil
		}
		select {
		case <-w.done:
			return fmt.Errorf("probe %s exited: %s", w.file, w.summary)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("probe %s: fewer than %d commits acknowledged in %v", w.file, n, timeout)
}

// window sums up what the writer saw between from and to.
type window struct {
	acks      int           // COMMITs sent in the window and acknowledged
	maxGap    time.Duration // longest time without an acknowledgment
	errs      map[string]int
	firstErr  time.Time
	lastAck   time.Time // done time of the last ack sent in the window
	firstSent time.Time // sent time of the first ack sent after from
}

// between returns the window [from, to].
func (w *writer) between(from, to time.Time) window {
	w.mu.Lock()
	defer w.mu.Unlock()
	win := window{errs: make(map[string]int)}
	prev := from
	for _, a := range w.acks {
		if a.done.Before(from) {
			continue
		}
		if win.firstSent.IsZero() && a.sent.After(from) {
			win.firstSent = a.sent
		}
		if a.done.After(to) {
			break
		}
		win.maxGap = max(win.maxGap, a.done.Sub(prev))
		prev = a.done
		if a.sent.After(from) {
			win.acks++
			win.lastAck = a.done
		}
	}
	win.maxGap = max(win.maxGap, to.Sub(prev))
	for _, e := range w.errs {
		if e.at.Before(from) || e.at.After(to) {
			continue
		}
		if win.firstErr.IsZero() {
			win.firstErr = e.at
		}
		win.errs[e.kind]++
	}
	return win
}

// errors returns the failures reported between from and to, for logs.
func (w *writer) errors(from, to time.Time, most int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, e := range w.errs {
		if !e.at.Before(from) && !e.at.After(to) && len(out) < most {
			out = append(out, fmt.Sprintf("%s %s: %s", clock(e.at), e.kind, e.msg))
		}
	}
	return out
}

// rate is the writer's throughput so far, in records per second.
func (w *writer) rate() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.acks) < 2 {
		return 0
	}
	first, last := w.acks[0], w.acks[len(w.acks)-1]
	return float64(last.seq-first.seq) / last.done.Sub(first.done).Seconds()
}
