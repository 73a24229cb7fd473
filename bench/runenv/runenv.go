// Package runenv holds what the benchmark programs share about the run
// itself: the machine it ran on (so a reader can judge how noisy the
// figures are) and the flag values they parse alike.
package runenv

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/dustin/go-humanize"
)

// Host describes the machine of a run.
type Host struct {
	Kernel    string `json:"kernel"`
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
	LoadStart string `json:"loadavg_start"`
	LoadEnd   string `json:"loadavg_end"`
}

// Start describes this machine now; call Finish at the end of the run.
func Start() Host {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return Host{Kernel: "Linux " + strings.TrimSpace(string(b)), CPUs: runtime.NumCPU(),
		GoVersion: runtime.Version(), LoadStart: Loadavg()}
}

// Finish records the load at the end of the run.
func (h *Host) Finish() { h.LoadEnd = Loadavg() }

// Loadavg returns the first three fields of /proc/loadavg.
func Loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// ByteSize is a size flag that takes "1GiB", "4KiB", "1048576"...
type ByteSize uint64

// MaxSize bounds a ByteSize flag: more is a typo on any machine here.
const MaxSize = 1 << 40

// String prints the size as "1 GiB" when the unit divides it, else
// "1.5 GiB".
func (b ByteSize) String() string {
	for _, u := range []struct {
		n    ByteSize
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if b >= u.n && b%u.n == 0 {
			return fmt.Sprintf("%d %s", b/u.n, u.name)
		}
	}
	return humanize.IBytes(uint64(b))
}

// Set parses a size with humanize (IEC and SI units).
func (b *ByteSize) Set(s string) error {
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return err
	}
	if n > MaxSize {
		return fmt.Errorf("size %s: too large", s)
	}
	*b = ByteSize(n)
	return nil
}

// List splits a comma-separated flag value, dropping empty items.
func List(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
