//go:build linux

package fusefs

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/fs"
)

// fsynced is what the crash child reports after each fsync: the first
// size bytes of file hash to sum.
type fsynced struct {
	file string
	size int64
	sum  string
}

// crashRecords is how many fsyncs the parent waits for before the kill.
const crashRecords = 40

// TestCrash kills a process that serves a mount while it writes and
// fsyncs files, then checks that every byte it reported as fsync'd is
// there after the data directory is reopened.
func TestCrash(t *testing.T) {
	requireFUSE(t)
	base := t.TempDir()
	data, mnt := filepath.Join(base, "data"), filepath.Join(base, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	records := runCrashChild(t, data, mnt)
	if len(records) < crashRecords {
		t.Fatalf("child reported only %d fsyncs", len(records))
	}
	d := openData(t, data, nil)
	vol := openVolume(t, d, "crash")
	mnt2 := mountVolume(t, vol, Options{})
	for _, r := range records {
		b, err := os.ReadFile(filepath.Join(mnt2, r.file))
		if err != nil {
			t.Fatalf("after the crash: %v", err)
		}
		if int64(len(b)) < r.size {
			t.Fatalf("%s: %d bytes after the crash, %d were fsync'd", r.file, len(b), r.size)
		}
		if sum := sha256.Sum256(b[:r.size]); hex.EncodeToString(sum[:]) != r.sum {
			t.Fatalf("%s: the first %d bytes, fsync'd, changed after the crash", r.file, r.size)
		}
	}
	t.Logf("%d fsync'd states checked", len(records))
}

// runCrashChild starts crashChild, reads its reports, kills it with
// SIGKILL mid-stream and cleans up its dead mount.
func runCrashChild(t *testing.T, data, mnt string) []fsynced {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), roleEnv+"=crash", "CAIRN_FUSEFS_DATA="+data, "CAIRN_FUSEFS_MNT="+mnt)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		syscall.Unmount(mnt, syscall.MNT_DETACH)
	}()
	var records []fsynced
	sc := bufio.NewScanner(out)
	deadline := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for len(records) < crashRecords && sc.Scan() {
		records = append(records, parseRecord(t, sc.Text()))
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	// The kernel aborted the connection when the child died; detach the
	// dead mount.
	if err := syscall.Unmount(mnt, syscall.MNT_DETACH); err != nil {
		t.Fatalf("unmount the dead mount: %v", err)
	}
	return records
}

func parseRecord(t *testing.T, line string) fsynced {
	f := strings.Fields(line)
	if len(f) != 3 {
		t.Fatalf("bad report %q", line)
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatalf("bad report %q", line)
	}
	return fsynced{file: f[0], size: n, sum: f[2]}
}

// crashChild mounts a volume and appends to a few files forever,
// fsyncing after each append and reporting what is durable.
func crashChild() error {
	d, err := datadir.Open(os.Getenv("CAIRN_FUSEFS_DATA"), datadir.Options{Logger: quietLogger(os.Stderr)})
	if err != nil {
		return err
	}
	ctx := context.Background()
	if _, err := d.FS.CreateVolume(ctx, "crash", fs.VolumeConfig{}); err != nil {
		return err
	}
	vol, err := d.FS.OpenVolume(ctx, "crash")
	if err != nil {
		return err
	}
	mnt := os.Getenv("CAIRN_FUSEFS_MNT")
	if _, err := Mount(vol, mnt, Options{Logger: quietLogger(os.Stderr), Sync: d.FS.Sync}); err != nil {
		return err
	}
	return appendForever(mnt)
}

func appendForever(mnt string) error {
	rnd := rand.New(rand.NewPCG(1, 2))
	contents := map[string][]byte{}
	buf := make([]byte, 600<<10)
	for i := 0; ; i++ {
		name := fmt.Sprint("f", i%5)
		chunk := buf[:1+rnd.IntN(len(buf))]
		for j := range chunk {
			chunk[j] = byte(rnd.Uint32())
		}
		if err := appendSync(filepath.Join(mnt, name), chunk); err != nil {
			return err
		}
		contents[name] = append(contents[name], chunk...)
		sum := sha256.Sum256(contents[name])
		fmt.Printf("%s %d %s\n", name, len(contents[name]), hex.EncodeToString(sum[:]))
	}
}

func appendSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Sync()
}
