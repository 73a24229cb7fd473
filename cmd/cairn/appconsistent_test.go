package main

import (
	"path/filepath"
	"testing"
)

// TestApplicationConsistentSnapshot cuts a snapshot of a live workload: a
// program appends fsync'd records to a file on the daemon's mount; the
// pre-hook makes it pause after a whole record and flush, the post-hook
// resumes it. The clone holds exactly the records written before the
// pause: an exact prefix, no torn record.
func TestApplicationConsistentSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts a server and runs the CLI")
	}
	tr := startTour(t)
	w := startRecordWriter(t, filepath.Join(tr.mnt, "app.log"))
	pre, post := w.pauseHooks()
	for round := range 3 {
		w.waitFor(t, 50*(round+1))
		name := "app" + string(rune('a'+round))
		out := tr.run("snapshot", "create", "default", name, "--pre-hook", pre, "--post-hook", post)
		t.Log(out)
		tr.run("snapshot", "clone", "default@"+name, "clone-"+name)
		dir := tr.mountDir("clone-" + name)
		tr.run("mount", "clone-"+name, dir)
		got := checkRecords(t, filepath.Join(dir, "app.log"))
		tr.run("unmount", dir)
		paused := readCount(t, filepath.Join(w.ctrl, "at-"+name))
		if got != paused {
			t.Fatalf("round %d: clone holds %d records; the writer paused after %d", round, got, paused)
		}
	}
	w.halt(t)
}
