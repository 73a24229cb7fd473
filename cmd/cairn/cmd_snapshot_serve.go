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
		Description: "The protocol has no authentication: listen only on a network where the\n" +
			"senders are trusted, or tunnel it (ssh -L, WireGuard).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Usage: "address to listen on", Value: ":7420", EnvVars: []string{"CAIRN_RECEIVE_LISTEN"}},
		},
		Action: func(c *cli.Context) error {
			return withManager(c, func(_ *datadir.Data, m *snapshots.Manager) error {
				l, err := net.Listen("tcp", c.String("listen"))
				if err != nil {
					return err
				}
				slog.Info("receiving pushed snapshots", "addr", l.Addr().String())
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
