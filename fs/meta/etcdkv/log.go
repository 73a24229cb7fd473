package etcdkv

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// zapLogger returns a zap logger, as etcd's client and server take, that
// passes warnings and errors to l and drops etcd's chatty info and debug
// messages. Once *closing is true (if closing is not nil), it demotes every
// message to debug: a member that shuts down reports its closed listeners
// as errors.
func zapLogger(l *slog.Logger, closing *atomic.Bool) *zap.Logger {
	return zap.New(slogCore{l: l, closing: closing})
}

// slogCore is a zapcore.Core writing to a slog.Logger.
type slogCore struct {
	l       *slog.Logger
	closing *atomic.Bool
}

func (c slogCore) Enabled(lvl zapcore.Level) bool {
	return lvl >= zapcore.WarnLevel && c.l.Enabled(context.Background(), c.level(lvl))
}

func (c slogCore) With(fields []zapcore.Field) zapcore.Core {
	return slogCore{l: c.l.With(attrs(fields)...), closing: c.closing}
}

func (c slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	msg := e.Message
	if e.LoggerName != "" {
		msg = e.LoggerName + ": " + msg
	}
	c.l.Log(context.Background(), c.level(e.Level), msg, attrs(fields)...)
	return nil
}

func (slogCore) Sync() error { return nil }

func (c slogCore) level(lvl zapcore.Level) slog.Level {
	switch {
	case c.closing != nil && c.closing.Load():
		return slog.LevelDebug
	case lvl >= zapcore.ErrorLevel:
		return slog.LevelError
	case lvl == zapcore.WarnLevel:
		return slog.LevelWarn
	case lvl == zapcore.InfoLevel:
		return slog.LevelInfo
	default:
		return slog.LevelDebug
	}
}

// attrs converts zap fields to slog key-value pairs, in key order.
func attrs(fields []zapcore.Field) []any {
	if len(fields) == 0 {
		return nil
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	keys := make([]string, 0, len(enc.Fields))
	for k := range enc.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		out = append(out, k, enc.Fields[k])
	}
	return out
}
