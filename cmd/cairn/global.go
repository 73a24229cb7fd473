package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/datadir"
)

func globalFlags() []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{
			Name:    "data",
			Aliases: []string{"d"},
			Usage:   "data directory holding metadata and chunks",
			EnvVars: []string{datadir.EnvVar},
			Value:   datadir.Default(),
		},
		&cli.StringFlag{
			Name:    "meta",
			Usage:   metaUsage,
			EnvVars: []string{"CAIRN_META"},
			Value:   "badger",
		},
		&cli.StringFlag{
			Name:    "log-level",
			Usage:   "debug, info, warn or error",
			EnvVars: []string{"CAIRN_LOG_LEVEL"},
			Value:   "info",
		},
		&cli.BoolFlag{
			Name:    "log-json",
			Usage:   "log as JSON lines instead of text",
			EnvVars: []string{"CAIRN_LOG_JSON"},
		},
		&cli.StringFlag{
			Name:        "socket",
			Usage:       "control socket of the daemon that owns --data (a daemon started with --socket)",
			EnvVars:     []string{"CAIRN_SOCKET"},
			DefaultText: "DATA/cairn.sock",
		},
		&cli.DurationFlag{
			Name:    "lock-wait",
			Usage:   "how long to wait for another cairn process (one that is stopping) to release the data directory; 0: fail at once",
			EnvVars: []string{"CAIRN_LOCK_WAIT"},
			Value:   datadir.DefaultLockWait,
		},
	}
	return append(flags, clientFlags()...)
}

func setupLogging(c *cli.Context) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(c.String("log-level")))); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.String("log-level"))
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if c.Bool("log-json") {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	events := control.NewEventLog(h, 0)
	eventLog.Store(events)
	slog.SetDefault(slog.New(events))
	return nil
}

// eventLog keeps this process's recent logs, for `cairn events`. Every
// command has one, not only `cairn server`: the data directory's loggers
// (the filesystem's "volume created", the snapshot manager's) are taken
// from slog.Default when it is opened, before the server is set up, so
// the history must be in the default handler from the start. Only the
// daemon serves it (controlConfig); elsewhere it is a bounded ring that
// costs nothing visible.
var eventLog atomic.Pointer[control.EventLog]

// daemonEvents returns the event history setupLogging made (nil before).
func daemonEvents() *control.EventLog { return eventLog.Load() }

// openData opens the data directory named by --data.
func openData(c *cli.Context) (*datadir.Data, error) {
	opts, err := dataOptions(c)
	if err != nil {
		return nil, err
	}
	return datadir.Open(c.String("data"), opts)
}

// withData runs fn on the open data directory and closes it after.
func withData(c *cli.Context, fn func(d *datadir.Data) error) (err error) {
	d, err := openData(c)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := d.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	return fn(d)
}
