//go:build linux

package fusefs

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestDifferentialUser runs the differential test as a non-root user (a
// child process), so that permission checks, set-ID bits and the errors
// they cause are compared too.
func TestDifferentialUser(t *testing.T) {
	requireFUSE(t)
	base := publicDir(t)
	d := openData(t, filepath.Join(base, "data"), nil)
	bin := copyTestBinary(t, base)
	steps := 1500
	if *long {
		steps = 25000
	}
	for _, seed := range seedsFromEnv([]uint64{11, 12}) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			mnt, local := filepath.Join(base, fmt.Sprint("mnt", seed)), filepath.Join(base, fmt.Sprint("local", seed))
			for _, dir := range []string{mnt, local} {
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			srv := mountAt(t, newVolume(t, d, fmt.Sprint("user-", seed)), mnt, Options{})
			t.Cleanup(func() { srv.Unmount() })
			for _, dir := range []string{mnt, local} {
				if err := os.Chown(dir, userID, userGID); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(bin)
			cmd.Env = append(os.Environ(), roleEnv+"=diff", "CAIRN_FUSEFS_MNT="+mnt, "CAIRN_FUSEFS_REF="+local,
				fmt.Sprint("CAIRN_FUSEFS_SEED=", seed), fmt.Sprint("CAIRN_FUSEFS_STEPS=", steps))
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
				Uid: userID, Gid: userGID, Groups: []uint32{extraGID}}}
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("differential run as uid %d: %v\n%s", userID, err, out.String())
			}
			t.Log(out.String())
		})
	}
}

// childFailer reports a child's failure on stderr and exits.
type childFailer struct{}

func (childFailer) Helper() {}

func (childFailer) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

// diffChild runs a differential test between two directories.
func diffChild() error {
	seed, err := strconv.ParseUint(os.Getenv("CAIRN_FUSEFS_SEED"), 10, 64)
	if err != nil {
		return err
	}
	steps, err := strconv.Atoi(os.Getenv("CAIRN_FUSEFS_STEPS"))
	if err != nil {
		return err
	}
	df := newDiffer(childFailer{}, seed, os.Getenv("CAIRN_FUSEFS_MNT"), os.Getenv("CAIRN_FUSEFS_REF"))
	df.run(steps)
	fmt.Printf("%d steps as uid %d; outcomes by errno: %v\n", steps, os.Getuid(), df.errs)
	return nil
}

// seedsFromEnv returns the seeds in $CAIRN_FUSEFS_SEEDS (a-b), or def.
func seedsFromEnv(def []uint64) []uint64 {
	lo, hi, ok := strings.Cut(os.Getenv("CAIRN_FUSEFS_SEEDS"), "-")
	a, err1 := strconv.ParseUint(lo, 10, 64)
	b, err2 := strconv.ParseUint(hi, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return def
	}
	var out []uint64
	for s := a; s <= b; s++ {
		out = append(out, s)
	}
	return out
}
