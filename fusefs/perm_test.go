//go:build linux

package fusefs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The non-root user and groups of the permission tests.
const (
	userID     = 1000
	userGID    = 1000
	extraGID   = 500  // a supplementary group of the user
	strangerID = 2000 // another user
)

// TestPermissions runs file operations as a non-root user (a child
// process with another uid and a supplementary group) on an allow_other
// mount, and the same operations on a local directory: both must refuse
// or allow each as expected, and end in the same state.
func TestPermissions(t *testing.T) {
	requireFUSE(t)
	base := publicDir(t)
	d := openData(t, filepath.Join(base, "data"), nil)
	mnt, local := filepath.Join(base, "mnt"), filepath.Join(base, "local")
	for _, dir := range []string{mnt, local} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	srv := mountAt(t, newVolume(t, d, "perm"), mnt, Options{})
	t.Cleanup(func() { srv.Unmount() })
	bin := copyTestBinary(t, base)
	for _, root := range []string{mnt, local} {
		if err := os.Chmod(root, 0o755); err != nil {
			t.Fatal(err)
		}
		setupPermFixtures(t, root)
	}
	got, ref := runPermChild(t, bin, mnt), runPermChild(t, bin, local)
	for name, errno := range permWant {
		if g, ok := got[name]; !ok || g != errno {
			t.Errorf("%s: got %v (%d), want %v (%d)", name, g, int(g), errno, int(errno))
		}
		if r := ref[name]; r != errno {
			t.Errorf("%s on the local disk: got %v, want %v: fix the test", name, r, errno)
		}
	}
	checkPermResults(t, mnt)
	checkPermResults(t, local)
	compareOwnership(t, mnt, local)
}

// compareOwnership compares the mode, owner and group of every path of
// two trees.
func compareOwnership(t *testing.T, a, b string) {
	t.Helper()
	err := filepath.WalkDir(b, func(p string, _ iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(b, p)
		var sa, sb unix.Stat_t
		if err := errors.Join(unix.Lstat(filepath.Join(a, rel), &sa), unix.Lstat(p, &sb)); err != nil {
			return err
		}
		if sa.Mode != sb.Mode || sa.Uid != sb.Uid || sa.Gid != sb.Gid || sa.Nlink != sb.Nlink {
			t.Errorf("%s: cairn mode %o %d:%d nlink %d, local mode %o %d:%d nlink %d",
				rel, sa.Mode, sa.Uid, sa.Gid, sa.Nlink, sb.Mode, sb.Uid, sb.Gid, sb.Nlink)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// publicDir returns a temporary directory other users can traverse.
func publicDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cairn-fusefs-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runPermChild runs permChild as the non-root user and returns the errno
// of each of its checks.
func runPermChild(t *testing.T, bin, mnt string) map[string]syscall.Errno {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), roleEnv+"=perm", "CAIRN_FUSEFS_MNT="+mnt)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
		Uid: userID, Gid: userGID, Groups: []uint32{extraGID}}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("permission child: %v\n%s", err, stderr.String())
	}
	got := map[string]syscall.Errno{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, num, ok := strings.Cut(sc.Text(), " ")
		n, err := strconv.Atoi(num)
		if !ok || err != nil {
			t.Fatalf("bad line from child: %q", sc.Text())
		}
		got[name] = syscall.Errno(n)
	}
	return got
}

// copyTestBinary copies the running test binary where other users can
// run it.
func copyTestBinary(t *testing.T, dir string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst := filepath.Join(dir, "fusefs.test")
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, src); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// fixture is a file or directory the permission tests start from.
type fixture struct {
	path     string
	dir      bool
	mode     uint32
	uid, gid int
}

var permFixtures = []fixture{
	{"secret", false, 0o600, 0, 0},
	{"sticky", true, 0o1777, 0, 0},
	{"sticky/other", false, 0o666, strangerID, strangerID},
	{"sticky/otherdir", true, 0o777, strangerID, strangerID},
	{"setgid", true, 0o2777, 0, extraGID},
	{"suid", false, 0o6777, 0, 0},
	{"suid2", false, 0o4777, 0, 0},
	{"sgid-noexec", false, 0o2666, 0, 0},
	{"sgid-noexec-member", false, 0o2666, 0, extraGID},
	{"owned", false, 0o666, 0, 0},
	{"group", false, 0o040, 0, extraGID},
	{"readonly", false, 0o444, userID, userGID},
	{"closed", true, 0o755, 0, 0},
	{"hidden", true, 0o711, 0, 0},
	{"public", true, 0o777, 0, 0},
	{"public/locked", true, 0o555, strangerID, strangerID},
	{"public/target", true, 0o777, 0, 0},
	{"sg2000", true, 0o2777, 0, strangerID},
}

func setupPermFixtures(t *testing.T, mnt string) {
	t.Helper()
	for _, f := range permFixtures {
		p := filepath.Join(mnt, f.path)
		var err error
		if f.dir {
			err = os.Mkdir(p, 0o700)
		} else {
			err = os.WriteFile(p, []byte("data"), 0o600)
		}
		if err == nil {
			err = os.Chown(p, f.uid, f.gid)
		}
		if err == nil {
			err = os.Chmod(p, os.FileMode(f.mode&0o777)|unixMode(f.mode))
		}
		if err != nil {
			t.Fatalf("fixture %s: %v", f.path, err)
		}
	}
}

// unixMode converts set-ID and sticky bits to os.FileMode's.
func unixMode(m uint32) os.FileMode {
	var fm os.FileMode
	if m&syscall.S_ISUID != 0 {
		fm |= os.ModeSetuid
	}
	if m&syscall.S_ISGID != 0 {
		fm |= os.ModeSetgid
	}
	if m&syscall.S_ISVTX != 0 {
		fm |= os.ModeSticky
	}
	return fm
}

// checkPermResults checks, as root, the state the child left.
func checkPermResults(t *testing.T, mnt string) {
	t.Helper()
	for _, c := range []struct {
		path      string
		mode, gid uint32
	}{
		{"setgid/file", syscall.S_IFREG | 0o644, extraGID},
		{"setgid/sub", syscall.S_IFDIR | syscall.S_ISGID | 0o755, extraGID},
		{"suid", syscall.S_IFREG | 0o777, 0},
		{"suid2", syscall.S_IFREG | 0o777, 0},
		// Without group execution, set-group-ID survives a write by a
		// member of the file's group only.
		{"sgid-noexec", syscall.S_IFREG | 0o666, 0},
		{"sgid-noexec-member", syscall.S_IFREG | syscall.S_ISGID | 0o666, extraGID},
		{"public/mine", syscall.S_IFREG | syscall.S_ISGID | 0o644, extraGID},
		{"sg2000/f", syscall.S_IFREG | 0o644, strangerID},
		{"public/suid", syscall.S_IFREG | 0o755, extraGID},
		{"readonly", syscall.S_IFREG | 0o640, userGID},
		// Linux drops set-group-ID from a new file in a set-group-ID
		// directory of a group the creator is not in only if the file
		// is group-executable.
		{"sg2000/g", syscall.S_IFREG | syscall.S_ISGID | 0o644, strangerID},
		{"sg2000/x", syscall.S_IFREG | 0o755, strangerID},
	} {
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(mnt, c.path), &st); err != nil {
			t.Errorf("stat %s: %v", c.path, err)
			continue
		}
		if st.Mode != c.mode || st.Gid != c.gid {
			t.Errorf("%s: mode %o gid %d, want mode %o gid %d", c.path, st.Mode, st.Gid, c.mode, c.gid)
		}
	}
}

// permChild runs the checks as the non-root user, printing "name errno"
// for each.
func permChild() error {
	mnt := os.Getenv("CAIRN_FUSEFS_MNT")
	for _, c := range permChecks {
		fmt.Printf("%s %d\n", c.name, int(errnoOf(c.run(mnt))))
	}
	return nil
}
