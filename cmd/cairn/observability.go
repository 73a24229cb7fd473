package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/cluster/pki"
)

func observabilityFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "metrics", Usage: "serve Prometheus /metrics on this address (e.g. :9091); empty: off", EnvVars: []string{"CAIRN_METRICS"}},
		&cli.BoolFlag{Name: "pprof", Usage: "also serve /debug/pprof on the --metrics address"},
	}
}

// startObservability serves /metrics (and pprof) when asked; the returned
// function stops it.
func startObservability(c *cli.Context) (func(), error) {
	_, stop, err := startHTTP(c)
	return stop, err
}

// startHTTP serves /metrics (and pprof) on --metrics when asked, and
// returns the mux so the daemon can add its dashboard (nil when off).
func startHTTP(c *cli.Context) (*http.ServeMux, func(), error) {
	addr := c.String("metrics")
	if addr == "" {
		if c.Bool("pprof") {
			return nil, nil, errors.New("--pprof needs --metrics ADDR")
		}
		return nil, func() {}, nil
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.Handler())
	if c.Bool("pprof") {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	}
	tlsConf, err := httpTLS(c)
	if err != nil {
		return nil, nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("--metrics %s: %w", addr, err)
	}
	if tlsConf != nil {
		l = tls.NewListener(l, tlsConf)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("metrics server stopped", "err", err)
		}
	}()
	slog.Info("serving metrics", "addr", l.Addr().String(), "pprof", c.Bool("pprof"), "tls", tlsConf != nil)
	return mux, func() { _ = srv.Close() }, nil
}

// httpTLS is the TLS configuration of the --metrics address with
// --http-tls: the --tls-dir bundle's certificate, and client certificates
// of the cluster CA asked for but optional (Prometheus scrapes without
// one; the dashboard admits a client that has one without a login).
func httpTLS(c *cli.Context) (*tls.Config, error) {
	if !c.Bool("http-tls") {
		return nil, nil
	}
	dir := c.String("tls-dir")
	if dir == "" {
		return nil, errors.New("--http-tls needs --tls-dir: the bundle whose certificate the HTTP address presents")
	}
	b, err := pki.LoadBundle(dir)
	if err != nil {
		return nil, fmt.Errorf("--http-tls: %w", err)
	}
	conf := b.ServerTLS()
	conf.ClientAuth = tls.VerifyClientCertIfGiven
	conf.NextProtos = []string{"h2", "http/1.1"}
	return conf, nil
}

func parseBytes(s string) (uint64, error) { return humanize.ParseBytes(s) }
