package main

import (
	"fmt"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/client"
)

func eventsCommand() *cli.Command {
	return &cli.Command{
		Name:  "events",
		Usage: "show what the daemon did recently: its logs at INFO and above",
		Description: "The daemon (cairn server) keeps its last 1000 events in memory since it\n" +
			"started: volumes created and deleted, mounts, snapshots, failures. A\n" +
			"command run without a daemon has no history to show.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "level", Usage: "the lowest level shown: info, warn or error", Value: "info"},
			&cli.IntFlag{Name: "limit", Usage: "show the newest `N` events (0: every one kept)", Value: 50},
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "then show new events as they come, until interrupted"},
			jsonFlag(),
		},
		Action: showEvents,
	}
}

func showEvents(c *cli.Context) error {
	level, limit := c.String("level"), c.Int("limit")
	if !slices.Contains([]string{"info", "warn", "error"}, level) {
		return fmt.Errorf("events: --level %q: want info, warn or error", level)
	}
	if limit < 0 {
		return fmt.Errorf("events: --limit %d: want 0 (all) or more", limit)
	}
	return withAPI(c, func(api *client.Client) error {
		// The API gives the oldest first; a reader wants the newest, as
		// tail does, so all are fetched (at most the history's size).
		resp, err := api.Events.ListEvents(c.Context, &cairnv1.ListEventsRequest{MinLevel: level})
		if err != nil {
			return err
		}
		var after uint64
		if evs := resp.GetEvents(); len(evs) > 0 {
			after = evs[len(evs)-1].GetId()
			if limit > 0 && len(evs) > limit {
				resp.Events = evs[len(evs)-limit:]
			}
		}
		if err := printEvents(c, resp); err != nil {
			return err
		}
		if !c.Bool("follow") {
			return nil
		}
		return followEvents(c, api, level, after)
	})
}

// followEvents polls for the events after the ID after, every second,
// until interrupted.
func followEvents(c *cli.Context, api *client.Client, level string, after uint64) error {
	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		resp, err := api.Events.ListEvents(ctx, &cairnv1.ListEventsRequest{AfterId: after, MinLevel: level})
		if ctx.Err() != nil {
			return nil
		} else if err != nil {
			return err
		}
		evs := resp.GetEvents()
		if len(evs) == 0 {
			continue
		}
		after = evs[len(evs)-1].GetId()
		if err := printEvents(c, resp); err != nil {
			return err
		}
	}
}

// printEvents prints one line per event, or with --json the response.
func printEvents(c *cli.Context, resp *cairnv1.ListEventsResponse) error {
	if c.Bool("json") {
		return printProto(resp)
	}
	for _, e := range resp.GetEvents() {
		var b strings.Builder
		fmt.Fprintf(&b, "%s  %-5s  %s", e.GetTime().AsTime().Local().Format(time.DateTime),
			strings.ToUpper(e.GetLevel()), e.GetMessage())
		attrs := e.GetAttrs()
		for _, k := range slices.Sorted(maps.Keys(attrs)) {
			fmt.Fprintf(&b, " %s=%s", k, quoteIfNeeded(attrs[k]))
		}
		if _, err := fmt.Fprintln(os.Stdout, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// quoteIfNeeded quotes a value that would not read as one word.
func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"=") {
		return strconv.Quote(s)
	}
	return s
}
