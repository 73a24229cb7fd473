package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// signalStop is the cause of catchStop's context: the signal received.
type signalStop struct{ sig os.Signal }

func (s signalStop) Error() string { return s.sig.String() }

// catchStop makes SIGINT and SIGTERM stop the process cleanly, for the
// rest of its life: the returned context is canceled by the first one
// (its cause a signalStop), later ones are only logged. Left to their
// default action, a second signal while stopping, or one while starting,
// would kill the process between mounting and unmounting, or before its
// stores are flushed. A command calls it before it takes anything that
// needs undoing (the data directory, a mount); runUntilSignal calls it too.
var catchStop = sync.OnceValue(func() context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		cancel(signalStop{<-sigs})
		for s := range sigs {
			slog.Warn("already stopping; the signal is ignored (SIGKILL forces an exit)", "signal", s.String())
		}
	}()
	return ctx
})

// runUntilSignal runs serve until it fails, SIGINT/SIGTERM arrives (also
// before this call, once catchStop was called) or ctx is done, then calls
// stop and waits for serve to return.
func runUntilSignal(ctx context.Context, what string, serve func() error, stop func() error) error {
	stopped := catchStop()
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return errors.Join(err, stop())
	case <-stopped.Done():
		slog.Info("stopping", "what", what, "signal", context.Cause(stopped).Error())
	case <-ctx.Done():
	}
	stopErr := stop()
	return errors.Join(<-errc, stopErr)
}
