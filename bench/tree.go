package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// The directories the metadata workloads use, in each target's directory.
const (
	createDir = "create"
	untarDir  = "untar"
)

// treeSpec describes the many-small-files workloads.
type treeSpec struct {
	Files, Dirs, FileSize int
}

// path returns the name of file i of the tree under root.
func (s treeSpec) path(root string, i int) string {
	return filepath.Join(root, fmt.Sprintf("d%03d", i%s.Dirs), fmt.Sprintf("f%06d", i))
}

// createFiles makes s.Dirs directories and s.Files files of s.FileSize
// bytes spread over them (open O_CREAT|O_EXCL, write, close; no fsync).
func createFiles(ctx context.Context, dir string, s treeSpec, p *pattern) (*measurement, error) {
	root := filepath.Join(dir, createDir)
	buf := make([]byte, s.FileSize)
	start := time.Now()
	if err := os.Mkdir(root, 0o755); err != nil {
		return nil, err
	}
	for d := 0; d < s.Dirs; d++ {
		if err := os.Mkdir(filepath.Join(root, fmt.Sprintf("d%03d", d)), 0o755); err != nil {
			return nil, err
		}
	}
	for i := 0; i < s.Files; i++ {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		p.fill(buf, uint64(2<<40)+uint64(i))
		f, err := os.OpenFile(s.path(root, i), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return nil, err
		}
		_, err = f.Write(buf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.path(root, i), err)
		}
	}
	return perSecond(int64(s.Files), time.Since(start)), nil
}

// prepareTree runs createFiles outside the clock if the tree is missing.
func prepareTree(ctx context.Context, dir string, s treeSpec, p *pattern) error {
	if _, err := os.Stat(filepath.Join(dir, createDir)); err == nil {
		return nil
	}
	_, err := createFiles(ctx, dir, s, p)
	return err
}

// statFiles lstats every file createFiles made, by path, and checks sizes.
func statFiles(ctx context.Context, dir string, s treeSpec) (*measurement, error) {
	root := filepath.Join(dir, createDir)
	start := time.Now()
	for i := 0; i < s.Files; i++ {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		fi, err := os.Lstat(s.path(root, i))
		if err != nil {
			return nil, err
		}
		if fi.Size() != int64(s.FileSize) {
			return nil, fmt.Errorf("%s has %d bytes, want %d", fi.Name(), fi.Size(), s.FileSize)
		}
	}
	return perSecond(int64(s.Files), time.Since(start)), nil
}

// makeTar writes a tar of the directory src to path (once per run, on the
// local disk) and returns how many entries it holds.
func makeTar(ctx context.Context, src, path string) (int, error) {
	src = filepath.Clean(src)
	out, err := exec.CommandContext(ctx, "tar", "-cf", path, "-C", filepath.Dir(src), filepath.Base(src)).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("tar -c %s: %w: %s", src, err, out)
	}
	list, err := exec.CommandContext(ctx, "tar", "-tf", path).Output()
	if err != nil {
		return 0, fmt.Errorf("tar -t %s: %w", path, err)
	}
	return bytes.Count(list, []byte("\n")), nil
}

// timed runs a command and measures its wall-clock time in seconds.
func timed(ctx context.Context, name string, args ...string) (*measurement, error) {
	start := time.Now()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("%s %v: %w: %s", name, args, err, bytes.TrimSpace(out))
	}
	return &measurement{Value: d.Seconds(), Seconds: d.Seconds()}, nil
}

// untar extracts the tar at tarPath into dir/untar with tar -x.
func untar(ctx context.Context, dir, tarPath string) (*measurement, error) {
	dst := filepath.Join(dir, untarDir)
	if err := os.Mkdir(dst, 0o755); err != nil {
		return nil, err
	}
	return timed(ctx, "tar", "-xf", tarPath, "-C", dst)
}

// prepareUntar extracts the tar outside the clock if dir/untar is missing.
func prepareUntar(ctx context.Context, dir, tarPath string) error {
	if _, err := os.Stat(filepath.Join(dir, untarDir)); err == nil {
		return nil
	}
	_, err := untar(ctx, dir, tarPath)
	return err
}

// removeTree runs rm -rf on dir/untar.
func removeTree(ctx context.Context, dir string) (*measurement, error) {
	return timed(ctx, "rm", "-rf", filepath.Join(dir, untarDir))
}
