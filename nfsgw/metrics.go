package nfsgw

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the gateway's Prometheus collectors.
type metrics struct {
	calls   *prometheus.CounterVec
	latency *prometheus.HistogramVec
	bytes   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "cairn", Subsystem: "nfs", Name: "calls_total",
			Help: "RPC calls served, by program, procedure and result status.",
		}, []string{"program", "procedure", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "cairn", Subsystem: "nfs", Name: "call_duration_seconds",
			Help:    "Time to serve an RPC call, by program and procedure.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 4, 10), // 50µs to ~13s
		}, []string{"program", "procedure"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "cairn", Subsystem: "nfs", Name: "bytes_total",
			Help: "File data bytes transferred by READ and WRITE.",
		}, []string{"direction"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.calls, err = register(reg, m.calls); err != nil {
		return nil, err
	}
	if m.latency, err = register(reg, m.latency); err != nil {
		return nil, err
	}
	if m.bytes, err = register(reg, m.bytes); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the equal collector already registered
// (a gateway restarted in the same process keeps counting).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if old, ok := are.ExistingCollector.(C); ok {
			return old, nil
		}
	}
	return c, err
}

func (m *metrics) observe(program, procedure, status string, d time.Duration) {
	m.calls.WithLabelValues(program, procedure, status).Inc()
	m.latency.WithLabelValues(program, procedure).Observe(d.Seconds())
}
