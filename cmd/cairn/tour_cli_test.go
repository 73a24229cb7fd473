package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTour runs the README's CLI tour, each command a separate process,
// against a running `cairn server` (as `make run` starts it) while a
// writer keeps appending fsync'd records to its FUSE mount.
func TestTour(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts a server and runs the CLI")
	}
	tr := startTour(t)
	w := startRecordWriter(t, filepath.Join(tr.mnt, "db.log"))
	w.waitFor(t, 20)
	if out := tr.run("status"); !strings.Contains(out, "health:   ok") {
		t.Fatalf("status:\n%s", out)
	}

	tr.run("volume", "create", "web", "--quota", "10GiB", "--compress")
	if out := tr.run("volume", "list"); !strings.Contains(out, "web") || !strings.Contains(out, "default") {
		t.Fatalf("volume list:\n%s", out)
	}
	var web struct {
		Name     string `json:"name"`
		Quota    string `json:"quota"`
		Compress bool   `json:"compress"`
	}
	tr.runJSON(&web, "volume", "info", "web")
	if web.Name != "web" || web.Quota != "10737418240" || !web.Compress {
		t.Fatalf("volume info web: %+v", web)
	}
	tr.run("volume", "set", "web", "--quota", "20GiB")
	tr.fails("is below", "volume", "set", "default", "--quota", "1") // default holds the writer's records

	webDir := tr.mountDir("web")
	tr.run("mount", "web", webDir)
	if err := os.WriteFile(filepath.Join(webDir, "index.html"), []byte("<h1>v1</h1>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := tr.run("mounts"); !strings.Contains(out, webDir) || !strings.Contains(out, tr.mnt) {
		t.Fatalf("mounts:\n%s", out)
	}

	// A snapshot mid-write: the pre-hook copies the writer's count of
	// fsync'd records; every one of them is in the snapshot.
	atHook := filepath.Join(w.ctrl, "at-hook")
	tr.run("snapshot", "create", "default", "before-upgrade", "--pre-hook", "cp "+w.ctrl+"/synced "+atHook)
	inSnap := checkRecordsPrefix(t, filepath.Join(tr.mnt, ".snapshots", "before-upgrade", "db.log"))
	if want := readCount(t, atHook); inSnap < want {
		t.Fatalf("snapshot holds %d records; the writer had fsync'd %d before the pre-hook returned", inSnap, want)
	}
	tr.run("snapshot", "create", "web", "nightly")
	tr.run("snapshot", "create", "--group", "ring", "web", "default")
	if out := tr.run("snapshot", "list", "default"); !strings.Contains(out, "before-upgrade") || !strings.Contains(out, "ring") {
		t.Fatalf("snapshot list:\n%s", out)
	}
	tr.run("snapshot", "info", "web@nightly")
	if out := tr.run("snapshot", "diff", "default@before-upgrade", "default", "--json"); !strings.Contains(out, "db.log") {
		t.Fatalf("diff of the growing log names no db.log:\n%s", out)
	}

	tr.run("snapshot", "clone", "default@before-upgrade", "default-test")
	testDir := tr.mountDir("default-test")
	tr.run("mount", "default-test", testDir)
	if n := checkRecordsPrefix(t, filepath.Join(testDir, "db.log")); n != inSnap {
		t.Fatalf("clone holds %d records, its snapshot %d", n, inSnap)
	}
	tr.run("unmount", testDir)

	// Restore refuses a volume in use, naming its mount; unmounted, it
	// rolls back.
	if err := os.WriteFile(filepath.Join(webDir, "index.html"), []byte("<h1>v2</h1>"), 0o644); err != nil {
		t.Fatal(err)
	}
	tr.fails(webDir, "snapshot", "restore", "web", "web@nightly")
	tr.run("unmount", webDir)
	tr.run("snapshot", "restore", "web", "web@nightly")
	tr.run("mount", "web", webDir)
	if b, err := os.ReadFile(filepath.Join(webDir, "index.html")); err != nil || string(b) != "<h1>v1</h1>" {
		t.Fatalf("after restore: %q, %v", b, err)
	}
	tr.run("unmount", webDir)

	tourShipping(t, tr)
	tr.run("snapshot", "schedule", "web", "--every", "1h", "--keep", "24")
	if out := tr.run("snapshot", "schedule"); !strings.Contains(out, "web") {
		t.Fatalf("schedule list:\n%s", out)
	}
	tr.run("snapshot", "schedule", "web", "--off")
	tr.run("gc", "--grace", "1h")
	tr.run("fsck")
	tr.fails("stop the cairn daemon", "fsck", "--repair")
	if out := tr.run("stats"); !strings.Contains(out, "dedup ratio") {
		t.Fatalf("stats:\n%s", out)
	}
	tr.run("snapshot", "delete", "web@nightly")
	tr.run("volume", "delete", "web")
	tr.fails("no such volume", "volume", "info", "web")
	w.halt(t)
	if n := checkRecords(t, filepath.Join(tr.mnt, "db.log")); n < inSnap {
		t.Fatalf("the log lost records: %d, had %d", n, inSnap)
	}
}

// tourShipping sends a snapshot to a file and receives it as another
// volume, as the tour's send and receive do.
func tourShipping(t *testing.T, tr *tour) {
	stream := tr.run("snapshot", "send", "web@nightly")
	cmd := cairnCommand(t, "--data", tr.data, "snapshot", "receive", "--volume", "web-copy")
	cmd.Stdin = strings.NewReader(stream)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("snapshot receive: %v\n%s", err, out)
	}
	if out := tr.run("snapshot", "list", "web-copy"); !strings.Contains(out, "nightly") {
		t.Fatalf("received snapshot not listed:\n%s", out)
	}
}

// checkRecordsPrefix is checkRecords for a file that may end in a record
// being written when it was cut: only whole records count.
func checkRecordsPrefix(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := len(b) / recordSize
	for i := 0; i < n; i++ {
		if got := b[i*recordSize : (i+1)*recordSize]; !bytes.Equal(got, record(i)) {
			t.Fatalf("%s: record %d is %q, want %q", path, i, got, record(i))
		}
	}
	return n
}
