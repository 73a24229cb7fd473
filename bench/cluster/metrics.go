package main

import (
	"context"
	"fmt"

	"github.com/cairn-storage/cairn/chunks"
)

// rpcStat sums the chunk RPCs of one method over every node: how many,
// and their total latency.
type rpcStat struct {
	Count   uint64  `json:"count"`
	Seconds float64 `json:"seconds"`
	// Errors counts the calls that failed for another reason than the
	// chunk's state (not found, corrupt): timeouts, refused connections.
	Errors uint64 `json:"errors,omitempty"`
}

// MeanMs returns the mean latency in milliseconds.
func (s rpcStat) MeanMs() float64 {
	if s.Count == 0 {
		return 0
	}
	return s.Seconds / float64(s.Count) * 1000
}

// rpcStats reads cairn_cluster_rpc_duration_seconds of every node from
// the testbed's registry, summed by method. A failed gather yields what
// could be read.
func (tb *testbed) rpcStats() map[string]rpcStat {
	out := make(map[string]rpcStat)
	families, _ := tb.reg.Gather()
	for _, f := range families {
		if f.GetName() != "cairn_cluster_rpc_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			var method, outcome string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "method":
					method = l.GetValue()
				case "outcome":
					outcome = l.GetValue()
				}
			}
			h := m.GetHistogram()
			s := out[method]
			s.Count += h.GetSampleCount()
			s.Seconds += h.GetSampleSum()
			if outcome == "error" {
				s.Errors += h.GetSampleCount()
			}
			out[method] = s
		}
	}
	return out
}

// diffRPC returns after minus before, without the methods that did not
// run.
func diffRPC(after, before map[string]rpcStat) map[string]rpcStat {
	out := make(map[string]rpcStat)
	for k, a := range after {
		b := before[k]
		if d := (rpcStat{Count: a.Count - b.Count, Seconds: a.Seconds - b.Seconds, Errors: a.Errors - b.Errors}); d.Count > 0 {
			out[k] = d
		}
	}
	return out
}

// localStats sums the local stores of the given members.
func localStats(ctx context.Context, ms []*member) (chunks.Stats, error) {
	var sum chunks.Stats
	for _, m := range ms {
		st, err := m.local.Stats(ctx)
		if err != nil {
			return sum, fmt.Errorf("stats of %s: %w", m.name, err)
		}
		sum.Chunks += st.Chunks
		sum.PlainBytes += st.PlainBytes
		sum.StoredBytes += st.StoredBytes
	}
	return sum, nil
}

// degraded sums the live nodes' writes acknowledged with fewer than R
// copies.
func (tb *testbed) degraded() int64 {
	var n int64
	for _, m := range tb.live() {
		n += m.node.Store().Degraded()
	}
	return n
}

// counter sums the counter name (all label values) over every node.
func (tb *testbed) counter(name string) float64 {
	var sum float64
	families, _ := tb.reg.Gather()
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
