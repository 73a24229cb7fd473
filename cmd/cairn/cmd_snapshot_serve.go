package main

import (
	"context"
	"log/slog"
	"net"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/datadir"
	"github.com/cairn-storage/cairn/snapshots"
)

func snapshotServeReceiveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve-receive",
		Usage: "receive pushed snapshots (the target of `cairn snapshot push`), in the foreground",
		Description: "The protocol has no authentication: whoever reaches the address may push\n" +
			"snapshots (new volumes, and chunks that fill the disk). So it listens on\n" +
			"loopback unless --listen names another address: reach it through a tunnel\n" +
			"(ssh -L 7420:127.0.0.1:7420, WireGuard), or listen only on a network where\n" +
			"every sender is trusted.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Usage: "address to listen on (HOST:PORT; :7420 for every interface)", Value: "127.0.0.1:7420", EnvVars: []string{"CAIRN_RECEIVE_LISTEN"}},
		},
		Action: func(c *cli.Context) error {
			return withManager(c, func(_ *datadir.Data, m *snapshots.Manager) error {
				l, err := net.Listen("tcp", c.String("listen"))
				if err != nil {
					return err
				}
				logReceiver(l.Addr())
				ctx, cancel := context.WithCancel(c.Context)
				return runUntilSignal(ctx, "serve-receive",
					func() error { return m.ServePush(ctx, l) },
					func() error { cancel(); return nil })
			})
		},
	}
}

// withManager runs fn with the snapshot manager of the data directory,
// after finishing any restore a crash interrupted.
func withManager(c *cli.Context, fn func(d *datadir.Data, m *snapshots.Manager) error) error {
	return withData(c, func(d *datadir.Data) error {
		m := snapshotManager(d)
		if err := m.Resume(c.Context); err != nil {
			return err
		}
		return fn(d, m)
	})
}

// logReceiver logs where pushed snapshots are received, warning when the
// address is not loopback: the protocol has no authentication.
func logReceiver(addr net.Addr) {
	if isLoopback(addr) {
		slog.Info("receiving pushed snapshots", "addr", addr.String())
		return
	}
	slog.Warn("receiving pushed snapshots on a non-loopback address: the protocol has no authentication, "+
		"so whoever reaches it may push snapshots", "addr", addr.String())
}
