package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// recordSize is the size of one record of a recordWriter: written with
// one write(2), so through FUSE one request.
const recordSize = 64

// record returns record i.
func record(i int) []byte {
	b := fmt.Appendf(nil, "record %09d ", i)
	b = append(b, bytes.Repeat([]byte{'x'}, recordSize-len(b)-1)...)
	return append(b, '\n')
}

// recordWriter appends fsync'd records to a file, as a database appends
// to its log. It talks to snapshot hooks through files in ctrl:
//   - after every fsync it writes the number of records durable to
//     ctrl/synced (what a pre-hook may copy);
//   - when ctrl/pause appears it stops between records, writes the count
//     to ctrl/paused, and waits until ctrl/pause is gone.
type recordWriter struct {
	path, ctrl string
	stop       chan struct{}
	wg         sync.WaitGroup
	mu         sync.Mutex
	n          int
	err        error
}

// startRecordWriter starts appending to path.
func startRecordWriter(t *testing.T, path string) *recordWriter {
	t.Helper()
	w := &recordWriter{path: path, ctrl: t.TempDir(), stop: make(chan struct{})}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	w.wg.Add(1)
	go func() { defer w.wg.Done(); w.setErr(w.loop(f)); w.setErr(f.Close()) }()
	t.Cleanup(func() { w.halt(t) })
	return w
}

func (w *recordWriter) setErr(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

func (w *recordWriter) loop(f *os.File) error {
	for i := 0; ; i++ {
		select {
		case <-w.stop:
			return nil
		default:
		}
		if err := w.pauseIfAsked(i); err != nil {
			return err
		}
		if _, err := f.Write(record(i)); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("fsync after record %d: %w", i, err)
		}
		w.mu.Lock()
		w.n = i + 1
		w.mu.Unlock()
		if err := writeCount(filepath.Join(w.ctrl, "synced"), i+1); err != nil {
			return err
		}
	}
}

// pauseIfAsked holds the writer while ctrl/pause exists, after telling
// how many records are durable.
func (w *recordWriter) pauseIfAsked(n int) error {
	pause := filepath.Join(w.ctrl, "pause")
	if _, err := os.Stat(pause); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := writeCount(filepath.Join(w.ctrl, "paused"), n); err != nil {
		return err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(pause); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.New("paused for 2 minutes: no post-hook resumed the writer")
}

// writeCount replaces file with n, atomically.
func writeCount(file string, n int) error {
	if err := os.WriteFile(file+".tmp", []byte(strconv.Itoa(n)), 0o644); err != nil {
		return err
	}
	return os.Rename(file+".tmp", file)
}

// readCount reads a count written by writeCount.
func readCount(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return n
}

// durable returns how many records are fsync'd so far, and the writer's
// error if it stopped.
func (w *recordWriter) durable() (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n, w.err
}

// waitFor waits until n records are durable.
func (w *recordWriter) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, err := w.durable()
		if err != nil {
			t.Fatalf("writer: %v", err)
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("writer made %d records in 2 minutes, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// halt stops the writer and fails the test if it failed.
func (w *recordWriter) halt(t *testing.T) {
	t.Helper()
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.wg.Wait()
	if w.err != nil {
		t.Errorf("writer: %v", w.err)
	}
}

// pauseHooks are the pre- and post-hook that pause and resume w; the
// pre-hook leaves the count of records written before the pause in
// ctrl/at-SNAPSHOT.
func (w *recordWriter) pauseHooks() (pre, post string) {
	pre = fmt.Sprintf(`touch %[1]s/pause && while [ ! -e %[1]s/paused ]; do sleep 0.01; done && cp %[1]s/paused "%[1]s/at-$CAIRN_SNAPSHOT"`, w.ctrl)
	post = fmt.Sprintf("rm -f %[1]s/pause %[1]s/paused", w.ctrl)
	return pre, post
}

// checkRecords reads path and checks it is an exact prefix of the
// records, with no torn record; it returns how many it holds.
func checkRecords(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%recordSize != 0 {
		t.Fatalf("%s: %d bytes: a torn record (records are %d bytes)", path, len(b), recordSize)
	}
	for i := 0; i*recordSize < len(b); i++ {
		if got := b[i*recordSize : (i+1)*recordSize]; !bytes.Equal(got, record(i)) {
			t.Fatalf("%s: record %d is %q, want %q", path, i, got, record(i))
		}
	}
	return len(b) / recordSize
}
