package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/cluster/pki"
)

func observabilityFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "metrics", Usage: "serve Prometheus /metrics (public: anyone who reaches it reads the counters) on this address, e.g. 127.0.0.1:9091 (:9091: every interface); empty: off", EnvVars: []string{"CAIRN_METRICS"}},
		&cli.BoolFlag{Name: "pprof", Usage: "also serve /debug/pprof on the --metrics address, to loopback clients (and, with --http-tls, clients with a certificate of the cluster CA) only"},
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
		mux.Handle("/debug/pprof/", pprofGuard(pprof.Index))
		mux.Handle("/debug/pprof/profile", pprofGuard(pprof.Profile))
		mux.Handle("/debug/pprof/symbol", pprofGuard(pprof.Symbol))
		mux.Handle("/debug/pprof/trace", pprofGuard(pprof.Trace))
		mux.Handle("/debug/pprof/cmdline", pprofGuard(pprof.Cmdline))
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

// pprofGuard serves pprof to clients on loopback, or with a verified
// certificate of the cluster CA (--http-tls), and refuses the others,
// wherever --metrics listens: /metrics is public by design, but a profile
// shows the program's command line and code paths, and taking one costs
// the daemon CPU for as long as the client asks. A loopback request must
// also name this host (Host), so a web page cannot reach it by DNS
// rebinding through a local browser.
func pprofGuard(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		certified := r.TLS != nil && len(r.TLS.VerifiedChains) > 0
		if !certified && !(loopbackPeer(r.RemoteAddr) && localHost(r.Host)) {
			http.Error(w, "pprof answers clients on loopback, or with a certificate of the cluster CA, only", http.StatusForbidden)
			return
		}
		h(w, r)
	})
}

// loopbackPeer tells whether a request's RemoteAddr is a loopback address.
func loopbackPeer(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// localHost tells whether a Host header names this machine: localhost or
// a loopback address, with or without a port.
func localHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// isLoopback tells whether a listener's address is a loopback one (one
// only this host can reach).
func isLoopback(addr net.Addr) bool {
	a, ok := addr.(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
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
