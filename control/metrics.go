package control

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The control API's calls, by method and status code, on the daemon's
// /metrics.
var (
	apiCalls = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "cairn_control_calls_total",
		Help: "Control API calls by method and gRPC status code.",
	}, []string{"method", "code"})
	apiSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "cairn_control_call_seconds",
		Help:    "Control API call latency by method (streams: until they end).",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
	}, []string{"method"})
)

// observe counts a finished call and logs it: the daemon's own failures
// (Internal, Unknown, Unavailable, DataLoss) as warnings, everything else
// (successes, and refusals the caller is told about) at debug.
func observe(method string, start time.Time, err error) {
	code := status.Code(err)
	apiCalls.WithLabelValues(method, code.String()).Inc()
	apiSeconds.WithLabelValues(method).Observe(time.Since(start).Seconds())
	level := slog.LevelDebug
	switch code {
	case codes.Internal, codes.Unknown, codes.Unavailable, codes.DataLoss:
		level = slog.LevelWarn
	}
	slog.Log(context.Background(), level, "control call", "method", method, "code", code.String(),
		"took", time.Since(start).Round(time.Microsecond), "err", err)
}

func unaryObserve(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := h(ctx, req)
	observe(info.FullMethod, start, err)
	return resp, err
}

func streamObserve(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	start := time.Now()
	err := h(srv, ss)
	observe(info.FullMethod, start, err)
	return err
}
