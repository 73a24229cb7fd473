package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/cluster/pki"
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
	if c.Bool("http-tls") {
		b, err := pki.LoadBundle(c.String("tls-dir"))
		if err != nil {
			return nil, errors.Join(fmt.Errorf("--http-tls: %w", err), api.Close())
		}
		cfg.ClientCAs = b.Roots
	}
	ui, err := dashboard.New(cfg)
	if err != nil {
		return nil, errors.Join(err, api.Close())
	}
	mux.Handle(dashboard.Prefix, ui)
	mux.Handle("GET /{$}", http.RedirectHandler(dashboard.Prefix, http.StatusFound))
	scheme := "http://"
	if cfg.ClientCAs != nil {
		scheme = "https://"
	}
	switch {
	case cfg.Public && cfg.Token == "" && cfg.ClientCAs == nil:
		slog.Warn("dashboard refused on a non-loopback address without --api-token-file or --http-tls", "addr", c.String("metrics"))
	default:
		slog.Info("serving the dashboard", "url", scheme+c.String("metrics")+dashboard.Prefix,
			"token", cfg.Token != "", "client-certificates", cfg.ClientCAs != nil)
	}
	return func() error { return errors.Join(ui.Close(), api.Close()) }, nil
}
