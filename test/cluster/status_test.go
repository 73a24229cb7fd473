//go:build dockercluster

package cluster

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// member is one line of `cairn cluster members --json`.
type member struct {
	Name   string `json:"name"`
	Role   string `json:"role"`
	Status string `json:"status"`
}

// nodeStatus is one storage node of `cairn cluster status --json`.
type nodeStatus struct {
	Name   string `json:"name"`
	Error  string `json:"error"`
	Status string `json:"status"` // gossip state
	Report *struct {
		Local struct {
			Chunks      int64 `json:"Chunks"`
			StoredBytes int64 `json:"StoredBytes"`
		} `json:"local"`
		Replicas     int   `json:"replicas"`
		Configured   int   `json:"configured_replicas"`
		DegradedPuts int64 `json:"degraded_puts"`
		Repair       struct {
			Scans           int64     `json:"scans"`
			UnderReplicated int64     `json:"under_replicated"`
			Copied          int64     `json:"copied"`
			LastScan        time.Time `json:"last_scan"`
			Error           string    `json:"error"`
		} `json:"repair"`
	} `json:"report"`
}

// cli runs `cairn cluster ARGS --json --addr NODE:7947` in the admin
// container and decodes its output into v.
func (s *stack) cli(node string, v any, args ...string) error {
	args = append([]string{"/cairn", "cluster"}, args...)
	out, err := s.exec(30*time.Second, "admin", append(args, "--json", "--addr", node+":7947")...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		return fmt.Errorf("cairn %s: %w in %q", strings.Join(args[1:], " "), err, out)
	}
	return nil
}

// members returns the membership as node sees it.
func (s *stack) members(node string) ([]member, error) {
	var ms []member
	return ms, s.cli(node, &ms, "members")
}

// status returns the storage nodes' status, asked through node.
func (s *stack) status(node string) ([]nodeStatus, error) {
	var st []nodeStatus
	return st, s.cli(node, &st, "status")
}

// allAlive reports whether every node of the compose file sees want
// alive members: the storage nodes through the admin routes, the
// gateway (which serves none) through its metrics.
func (s *stack) allAlive(want int) error {
	for _, n := range allNodes {
		if n == "gateway" {
			if err := s.gatewayView(want); err != nil {
				return err
			}
			continue
		}
		ms, err := s.members(n)
		if err != nil {
			return fmt.Errorf("members via %s: %w", n, err)
		}
		var alive []string
		for _, m := range ms {
			if m.Status == "alive" {
				alive = append(alive, m.Name)
			}
		}
		if len(alive) != want {
			return fmt.Errorf("%s sees %d alive members %v, want %d", n, len(alive), alive, want)
		}
	}
	return nil
}

// gatewayView checks the gateway's metrics: want members alive and
// chunks placed on three replicas.
func (s *stack) gatewayView(want int) error {
	out, err := s.exec(30*time.Second, "gateway", "/probe", "get", "http://127.0.0.1:9091/metrics")
	if err != nil {
		return fmt.Errorf("gateway metrics: %w", err)
	}
	for _, m := range []struct{ name, label, want string }{
		{"cairn_cluster_members", `status="alive"`, fmt.Sprint(want)},
		{"cairn_cluster_placement_replicas", "", "3"},
	} {
		if got := metric(out, m.name, m.label); got != m.want {
			return fmt.Errorf("gateway: %s{%s} is %s, want %s", m.name, m.label, got, m.want)
		}
	}
	return nil
}

// metric returns the value of the sample of metric name whose labels
// include label, from a Prometheus text exposition; "none" if missing.
func metric(text, name, label string) string {
	for l := range strings.Lines(text) {
		series, value, ok := strings.Cut(strings.TrimSpace(l), " ")
		n, labels, _ := strings.Cut(series, "{")
		if ok && n == name && strings.Contains(labels, label) {
			return value
		}
	}
	return "none"
}

// repairCopies sums the storage nodes' repair copies.
func (s *stack) repairCopies(t *testing.T) int64 {
	st, err := s.status("node1")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, r := range st {
		if r.Report != nil {
			n += r.Report.Repair.Copied
		}
	}
	return n
}

// gatewayPuts returns the gateway's count of chunk writes by outcome
// (ok, degraded, failed), or -1.
func (s *stack) gatewayPuts(outcome string) int64 {
	out, err := s.exec(30*time.Second, "gateway", "/probe", "get", "http://127.0.0.1:9091/metrics")
	if err != nil {
		return -1
	}
	var n float64
	if _, err := fmt.Sscan(metric(out, "cairn_cluster_puts_total", `outcome="`+outcome+`"`), &n); err != nil {
		return 0 // no such write yet
	}
	return int64(n)
}

// heal is what healed returns when the cluster is healthy.
type heal struct {
	chunks int64 // on each node
	copied int64 // repair copies, summed over the nodes
}

// healed reports whether the cluster has healed since t: every storage
// node alive with R=3, a repair scan started after t that found nothing
// under-replicated, and the same number of chunks on every node (with
// three storage nodes and R=3 each holds every chunk).
func (s *stack) healed(since time.Time) (heal, error) {
	var h heal
	if err := s.allAlive(len(allNodes)); err != nil {
		return h, err
	}
	st, err := s.status("node1")
	if err != nil {
		return h, err
	}
	if len(st) != len(storageNodes) {
		return h, fmt.Errorf("status lists %d storage nodes, want %d", len(st), len(storageNodes))
	}
	var counts []int64
	for _, n := range st {
		switch {
		case n.Report == nil:
			return h, fmt.Errorf("%s: no status (%s)", n.Name, n.Error)
		case n.Report.Replicas != 3:
			return h, fmt.Errorf("%s: R=%d, want 3", n.Name, n.Report.Replicas)
		case !n.Report.Repair.LastScan.After(since):
			return h, fmt.Errorf("%s: no repair scan started since %s", n.Name, clock(since))
		case n.Report.Repair.UnderReplicated != 0:
			return h, fmt.Errorf("%s: %d chunks under-replicated", n.Name, n.Report.Repair.UnderReplicated)
		case n.Report.Repair.Error != "":
			return h, fmt.Errorf("%s: repair: %s", n.Name, n.Report.Repair.Error)
		}
		counts = append(counts, n.Report.Local.Chunks)
		h.copied += n.Report.Repair.Copied
	}
	if slices.Min(counts) != slices.Max(counts) {
		return h, fmt.Errorf("chunks per node %v: not yet equal", counts)
	}
	h.chunks = counts[0]
	return h, nil
}

// waitFor polls cond every second until it returns nil or timeout
// passes; it returns how long that took and cond's last error.
func waitFor(timeout time.Duration, cond func() error) (time.Duration, error) {
	start := time.Now()
	var err error
	for time.Since(start) < timeout {
		if err = cond(); err == nil {
			return time.Since(start), nil
		}
		time.Sleep(time.Second)
	}
	return time.Since(start), fmt.Errorf("not within %v: %w", timeout, err)
}
