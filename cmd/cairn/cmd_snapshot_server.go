package main

import (
	"context"
	"errors"
	"net"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/snapshots"
)

// snapshotServerFlags are the snapshot flags of `cairn server`.
func snapshotServerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "receive", Usage: "also receive pushed snapshots on this address (see 'cairn snapshot push')", EnvVars: []string{"CAIRN_RECEIVE_LISTEN"}},
		&cli.BoolFlag{Name: "no-snapshot-scheduler", Usage: "do not take scheduled snapshots"},
	}
}

// startSnapshotServices runs, for `cairn server`, the snapshot scheduler
// (unless noScheduler) and, if receiveAddr is set, the receiver of pushed
// snapshots. stop ends them and waits for them.
func startSnapshotServices(ctx context.Context, m *snapshots.Manager, receiveAddr string, noScheduler bool) (stop func() error, err error) {
	if err := m.Resume(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	var done []chan error
	run := func(fn func() error) {
		ch := make(chan error, 1)
		done = append(done, ch)
		go func() { ch <- fn() }()
	}
	if receiveAddr != "" {
		l, err := net.Listen("tcp", receiveAddr)
		if err != nil {
			cancel()
			return nil, err
		}
		logReceiver(l.Addr())
		run(func() error { return m.ServePush(ctx, l) })
	}
	if !noScheduler {
		run(func() error { return m.RunScheduler(ctx) })
	}
	return func() error {
		cancel()
		var errs []error
		for _, ch := range done {
			errs = append(errs, <-ch)
		}
		return errors.Join(errs...)
	}, nil
}
