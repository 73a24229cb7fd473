package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeTour runs the README's CLI tour, command by command as
// written, in a shell against a running `cairn server` (the one `make
// run` starts, in a temporary directory) while a writer appends to its
// mount: a command whose comment says "refused" must fail, every other
// one must succeed. So the README's promise is checked, not assumed.
func TestReadmeTour(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts a server and runs the CLI")
	}
	lines := readmeTour(t)
	tr := startTour(t)
	startRecordWriter(t, filepath.Join(tr.mnt, "db.log")).waitFor(t, 10)
	work := t.TempDir()
	bin := cairnCommand(t).Path // the built binary, or the test binary as cairn
	for _, line := range lines {
		cmdLine, comment, _ := strings.Cut(line, "#")
		script := strings.ReplaceAll(cmdLine, "/mnt/", filepath.Dir(tr.mnt)+"/")
		sh := exec.Command("sh", "-ec", script)
		sh.Dir = work
		sh.Env = append(os.Environ(), "CAIRN_DATA="+tr.data, "CAIRN_TEST_MAIN=1",
			"PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
		if filepath.Base(bin) != "cairn" {
			sh.Args[2] = "cairn() { " + bin + " \"$@\"; }; " + script
		}
		out, err := sh.CombinedOutput()
		refused := strings.Contains(comment, "refused")
		switch {
		case refused && err == nil:
			t.Fatalf("%s\nsucceeded; the README says it is refused:\n%s", line, out)
		case !refused && err != nil:
			t.Fatalf("%s\nfailed: %v\n%s", line, err, out)
		}
		t.Logf("%s\n%s", line, out)
	}
}

// readmeTour returns the command lines of the README's CLI tour block.
func readmeTour(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "## CLI tour")
	if ok {
		_, rest, ok = strings.Cut(rest, "```sh\n")
	}
	block, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatal("README.md has no ```sh block under \"## CLI tour\"")
	}
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) < 20 {
		t.Fatalf("the README's tour has %d commands; want the whole tour", len(lines))
	}
	return lines
}
