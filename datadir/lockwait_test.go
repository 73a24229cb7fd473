package datadir_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/chunks"
	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fs/meta"
	"github.com/cairn-storage/cairn/fs/meta/badgerkv"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func open(t *testing.T, dir string, opts datadir.Options) *datadir.Data {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	d, err := datadir.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// closeLater closes c after delay, as a stopping process would, and
// reports Close's error on the returned channel.
func closeLater(delay time.Duration, c func() error) <-chan error {
	done := make(chan error, 1)
	go func() { time.Sleep(delay); done <- c() }()
	return done
}

func TestOpenWaitsForRelease(t *testing.T) {
	dir := t.TempDir()
	first := open(t, dir, datadir.Options{})
	closed := closeLater(300*time.Millisecond, first.Close)
	var log bytes.Buffer
	start := time.Now()
	d := open(t, dir, datadir.Options{Logger: slog.New(slog.NewTextHandler(&log, nil)), LockWait: time.Minute})
	waited := time.Since(start)
	if err := errors.Join(<-closed, d.Close()); err != nil {
		t.Fatal(err)
	}
	if waited < 300*time.Millisecond {
		t.Errorf("Open returned after %s, before the first holder closed", waited)
	}
	want := fmt.Sprintf("data directory %s is in use by cairn pid %d; waiting up to 1m0s for it to stop", dir, os.Getpid())
	if got := log.String(); strings.Count(got, want) != 1 || !strings.Contains(got, "data directory released") {
		t.Errorf("log:\n%s\nwant %q once, then the release", got, want)
	}
}

func TestOpenGivesUp(t *testing.T) {
	dir := t.TempDir()
	first := open(t, dir, datadir.Options{})
	defer first.Close()
	for _, wait := range []time.Duration{-1, 200 * time.Millisecond} {
		start := time.Now()
		_, err := datadir.Open(dir, datadir.Options{Logger: quiet, LockWait: wait})
		took := time.Since(start)
		if !errors.Is(err, badgerkv.ErrInUse) || !strings.Contains(err.Error(), fmt.Sprintf("(pid %d)", os.Getpid())) {
			t.Errorf("LockWait %s: Open = %v; want ErrInUse naming pid %d", wait, err, os.Getpid())
		}
		if took < wait {
			t.Errorf("LockWait %s: Open gave up after %s", wait, took)
		}
	}
}

// TestOpenWaitsForChunks: with another metadata store (a cluster's), only
// the chunk store is locked, and Open waits for that lock the same way.
func TestOpenWaitsForChunks(t *testing.T) {
	dir := t.TempDir()
	local, err := chunks.OpenLocal(dir, chunks.LocalOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	closed := closeLater(200*time.Millisecond, local.Close)
	memKV := func() (meta.KV, func() error, error) {
		kv, err := badgerkv.Open("", badgerkv.Options{InMemory: true, Logger: quiet})
		if err != nil {
			return nil, nil, err
		}
		return kv, kv.Close, nil
	}
	var log bytes.Buffer
	d := open(t, dir, datadir.Options{Logger: slog.New(slog.NewTextHandler(&log, nil)), OpenKV: memKV, LockWait: time.Minute})
	if err := errors.Join(<-closed, d.Close()); err != nil {
		t.Fatal(err)
	}
	if want := "is in use by another cairn process; waiting up to 1m0s"; !strings.Contains(log.String(), want) {
		t.Errorf("log:\n%s\nwant %q", log.String(), want)
	}
}
