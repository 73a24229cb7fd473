package cluster

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-storage/cairn/chunks"
)

// metrics are a node's Prometheus collectors (namespace cairn_cluster).
type metrics struct {
	rpc          *prometheus.HistogramVec // by method and outcome
	members      *prometheus.GaugeVec     // by status
	placement    prometheus.Gauge         // nodes in the placement set
	replicas     prometheus.Gauge         // effective R
	puts         *prometheus.CounterVec   // by outcome: ok, degraded, failed
	fallbacks    prometheus.Counter       // copies written to a non-owner
	failovers    prometheus.Counter       // reads served by a later replica
	readRepairs  prometheus.Counter
	repairCopies *prometheus.CounterVec // by kind: repair, rebalance, read-repair
	repairBytes  prometheus.Counter
	rebalanced   prometheus.Counter // local copies deleted after handing off
	underRepl    prometheus.Gauge   // found by the last repair scan
	scanProgress prometheus.Gauge   // 0..1
	scanSeconds  prometheus.Histogram
	// freezeSeconds is how long snapshots waited for the other members'
	// flushes.
	freezeSeconds prometheus.Histogram
}

// newMetrics makes the collectors and registers them with reg (if not
// nil), labeled node=name so that several nodes can share a registry.
func newMetrics(reg prometheus.Registerer, name string) *metrics {
	const ns, sub = "cairn", "cluster"
	m := &metrics{
		rpc: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "rpc_duration_seconds",
			Help:    "Chunk RPC latency by method and outcome (ok, not_found, corrupt, error).",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2.5, 12),
		}, []string{"method", "outcome"}),
		members: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "members",
			Help: "Cluster members by status (alive, failed, left, leaving, draining).",
		}, []string{"status"}),
		placement: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "placement_nodes",
			Help: "Storage nodes that own chunks (alive, or down within the grace period, and not draining).",
		}),
		replicas: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "placement_replicas",
			Help: "Effective replica count: R capped by the placement nodes.",
		}),
		puts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "puts_total",
			Help: "Chunk writes by outcome: ok (R copies), degraded (quorum, fewer than R), failed.",
		}, []string{"outcome"}),
		fallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "placement_fallbacks_total",
			Help: "Copies written to a node past the owners because an owner was down.",
		}),
		failovers: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "read_failovers_total",
			Help: "Reads served by a replica after an earlier one failed or missed.",
		}),
		readRepairs: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "read_repairs_total",
			Help: "Missing or corrupt replicas rewritten after a read.",
		}),
		repairCopies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "repair_copies_total",
			Help: "Chunks copied by the repair loop, by reason (repair, rebalance).",
		}, []string{"reason"}),
		repairBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "repair_bytes_total",
			Help: "Bytes sent by repair, rebalance and read repair.",
		}),
		rebalanced: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "rebalance_deleted_total",
			Help: "Local copies deleted after every owner confirmed a durable copy.",
		}),
		underRepl: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "under_replicated_chunks",
			Help: "Chunks this node is responsible for that had fewer than R copies at the last scan.",
		}),
		scanProgress: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "repair_scan_progress_ratio",
			Help: "Progress of the current repair scan over the local chunks (0 to 1).",
		}),
		scanSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "repair_scan_seconds",
			Help:    "Duration of complete repair scans.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 12),
		}),
		freezeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "snapshot_freeze_seconds",
			Help:    "Time snapshots cut on this node waited for every other member to flush and hold its writes.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}),
	}
	if reg != nil {
		reg = prometheus.WrapRegistererWith(prometheus.Labels{"node": name}, reg)
		for _, c := range []prometheus.Collector{m.rpc, m.members, m.placement, m.replicas, m.puts,
			m.fallbacks, m.failovers, m.readRepairs, m.repairCopies, m.repairBytes, m.rebalanced,
			m.underRepl, m.scanProgress, m.scanSeconds, m.freezeSeconds} {
			reg.MustRegister(c)
		}
	}
	return m
}

// observeRPC records one chunk RPC.
func (m *metrics) observeRPC(method string, d time.Duration, err error) {
	outcome := "ok"
	switch {
	case err == nil:
	case errors.Is(err, chunks.ErrNotFound):
		outcome = "not_found"
	case errors.Is(err, chunks.ErrCorrupt):
		outcome = "corrupt"
	default:
		outcome = "error"
	}
	m.rpc.WithLabelValues(method, outcome).Observe(d.Seconds())
}

// observeView records the membership gauges.
func (m *metrics) observeView(v *view) {
	counts := map[string]float64{"alive": 0, "failed": 0, "left": 0, "leaving": 0, "draining": 0}
	for _, p := range v.peers {
		counts[string(p.Status)]++
		if p.Draining {
			counts["draining"]++
		}
	}
	for s, c := range counts {
		m.members.WithLabelValues(s).Set(c)
	}
	m.placement.Set(float64(v.table.Len()))
	m.replicas.Set(float64(v.r))
}
