package csi

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// mountEntry is one line of /proc/self/mountinfo.
type mountEntry struct {
	MountPoint string
	FSType     string
	Source     string
}

// mountsAt returns the mounts at dir, bottom first, from mountinfo.
func mountsAt(mountinfo, dir string) ([]mountEntry, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	defer f.Close()
	var out []mountEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		e, ok := parseMountInfo(sc.Text())
		if ok && e.MountPoint == dir {
			out = append(out, e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	return out, nil
}

// parseMountInfo reads one mountinfo line: ID PARENT MAJ:MIN ROOT
// MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS.
func parseMountInfo(line string) (mountEntry, bool) {
	f := strings.Fields(line)
	if len(f) < 10 {
		return mountEntry{}, false
	}
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if sep < 0 || sep+2 >= len(f) {
		return mountEntry{}, false
	}
	return mountEntry{MountPoint: unescapeOctal(f[4]), FSType: f[sep+1], Source: unescapeOctal(f[sep+2])}, true
}

// unescapeOctal undoes the kernel's \NNN escapes of spaces and the like.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountState is what is at a target path.
type mountState int

const (
	mountAbsent mountState = iota // nothing mounted
	mountLive                     // the expected mount, answering
	mountDead                     // a mount whose server is gone (ENOTCONN)
	mountOther                    // something else is mounted there
)

func (s mountState) String() string {
	return [...]string{"absent", "live", "dead", "other"}[s]
}

// fuseSource is the mount source cairn's FUSE mounts show (fusefs
// FsName) and fuseType their filesystem type.
const fuseType = "fuse.cairn"

func fuseSource(volume string) string { return "cairn:" + volume }

// stateOf inspects target against what pub asks to be mounted there.
func stateOf(mountinfo string, pub publication) (mountState, error) {
	ms, err := mountsAt(mountinfo, pub.Target)
	if err != nil {
		return 0, err
	}
	if len(ms) == 0 {
		return mountAbsent, nil
	}
	top := ms[len(ms)-1]
	if err := probeMount(pub.Target); deadMount(err) {
		return mountDead, nil
	} else if err != nil {
		return 0, err
	}
	switch pub.Mounter {
	case MounterFUSE:
		if top.FSType == fuseType && top.Source == fuseSource(pub.Volume) {
			return mountLive, nil
		}
	case MounterNFS:
		if (top.FSType == "nfs" || top.FSType == "nfs4") && pub.NFS != nil && strings.HasSuffix(top.Source, ":"+newNFSMount(pub.Volume, *pub.NFS, false, nil, "").Path) {
			return mountLive, nil
		}
	}
	return mountOther, nil
}

// deadMount reports whether err is what a FUSE mount whose server is
// gone answers: ENOTCONN, or ECONNABORTED for the requests in flight
// when it went. (Those get EIO too, but so do a live server's failures:
// probeMount asks again.)
func deadMount(err error) bool {
	return errors.Is(err, unix.ENOTCONN) || errors.Is(err, unix.ECONNABORTED)
}

// probeTimeout bounds the wait for a mount's server to answer.
const probeTimeout = 10 * time.Second

// probeMount asks the server of the mount at dir for its statistics:
// unlike stat, statfs is never answered from the kernel's caches, so a
// FUSE mount whose server is gone fails with ENOTCONN.
func probeMount(dir string) error {
	err := statfs(dir)
	if errors.Is(err, unix.EIO) {
		time.Sleep(100 * time.Millisecond)
		err = statfs(dir)
	}
	return err
}

// statfs runs statfs(2) on dir, waiting at most probeTimeout.
func statfs(dir string) error {
	done := make(chan error, 1)
	go func() {
		var st unix.Statfs_t
		done <- unix.Statfs(dir, &st)
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("statfs %s: %w", dir, err)
		}
		return nil
	case <-time.After(probeTimeout):
		return fmt.Errorf("statfs %s: the mount's server did not answer in %v", dir, probeTimeout)
	}
}

// unmountAll unmounts everything mounted at target: cleanly if it can,
// else lazily (umount -l: the mount is detached now and goes away when
// no longer busy), which is what a dead FUSE mount needs.
func unmountAll(mountinfo, target string) error {
	for range 16 {
		ms, err := mountsAt(mountinfo, target)
		if err != nil {
			return err
		}
		if len(ms) == 0 {
			return nil
		}
		if err := unix.Unmount(target, 0); err == nil || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			continue
		}
		if err := detachMount(target); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount %s (lazily): %w", target, err)
		}
	}
	return fmt.Errorf("unmount %s: still mounted after 16 unmounts", target)
}
