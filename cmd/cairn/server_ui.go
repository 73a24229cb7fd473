package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/control/client"
	"github.com/cairn-storage/cairn/dashboard"
)

// serveDashboard adds the web dashboard to the daemon's HTTP address. It
// is a client of the daemon's own control socket, like the CLI, so every
// action passes the API's checks. On an address other machines can
// reach, it asks for the --api-token-file token.
func serveDashboard(c *cli.Context, mux *http.ServeMux) (stop func() error, err error) {
	api, err := client.Dial(socketPath(c), client.Options{})
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	cfg := dashboard.Config{API: api, Public: dashboard.IsPublic(c.String("metrics"))}
	if f := c.String("api-token-file"); f != "" {
		if cfg.Token, err = readToken(f); err != nil {
			return nil, errors.Join(fmt.Errorf("--api-token-file: %w", err), api.Close())
		}
	}
	ui, err := dashboard.New(cfg)
	if err != nil {
		return nil, errors.Join(err, api.Close())
	}
	mux.Handle(dashboard.Prefix, ui)
	mux.Handle("GET /{$}", http.RedirectHandler(dashboard.Prefix, http.StatusFound))
	switch {
	case cfg.Public && cfg.Token == "":
		slog.Warn("dashboard refused on a non-loopback address without --api-token-file", "addr", c.String("metrics"))
	default:
		slog.Info("serving the dashboard", "url", "http://"+c.String("metrics")+dashboard.Prefix, "login", cfg.Token != "")
	}
	return func() error { return errors.Join(ui.Close(), api.Close()) }, nil
}
