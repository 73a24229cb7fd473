package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// runUntilSignal runs serve until it fails or SIGINT/SIGTERM arrives,
// then calls stop and waits for serve to return.
func runUntilSignal(ctx context.Context, what string, serve func() error, stop func() error) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return errors.Join(err, stop())
	case s := <-sigs:
		slog.Info("stopping", "what", what, "signal", s.String())
	case <-ctx.Done():
	}
	stopErr := stop()
	return errors.Join(<-errc, stopErr)
}
