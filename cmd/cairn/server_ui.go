package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"

	"github.com/urfave/cli/v2"

	"github.com/cairn-storage/cairn/cluster/pki"
	"github.com/cairn-storage/cairn/control/client"
	"github.com/cairn-storage/cairn/dashboard"
)

// webUI is the dashboard of a daemon: its configuration, made before the
// control server (whose Version reports the login URL), and its handler,
// installed on the HTTP address at once and served once the API is up.
type webUI struct {
	cfg      dashboard.Config
	url      string // the dashboard's address
	loginURL string // what `cairn status` prints: url, or a login link with the made-up token
	handler  atomic.Pointer[dashboard.Server]
}

// newWebUI returns the dashboard settings of the daemon and installs it
// on mux, answering 503 until serve. Without --api-token-file the daemon
// makes up a token: the dashboard always needs a login, since even on
// loopback other local users could reach what the 0600 socket keeps from
// them. The login link is logged and reported by `cairn status`.
func newWebUI(c *cli.Context, mux *http.ServeMux) (*webUI, error) {
	addr := c.String("metrics")
	u := &webUI{cfg: dashboard.Config{Public: dashboard.IsPublic(addr)}}
	scheme := "http://"
	if c.Bool("http-tls") {
		b, err := pki.LoadBundle(c.String("tls-dir"))
		if err != nil {
			return nil, fmt.Errorf("--http-tls: %w", err)
		}
		u.cfg.ClientCAs, scheme = b.Roots, "https://"
	}
	u.url = scheme + browsable(addr) + dashboard.Prefix
	u.loginURL = u.url
	if f := c.String("api-token-file"); f != "" {
		tok, err := readToken(f)
		if err != nil {
			return nil, fmt.Errorf("--api-token-file: %w", err)
		}
		u.cfg.Token = tok
	} else {
		b := make([]byte, 24)
		_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
		u.cfg.Token = base64.RawURLEncoding.EncodeToString(b)
		u.loginURL = u.url + "login?token=" + url.QueryEscape(u.cfg.Token)
	}
	mux.Handle(dashboard.Prefix, u)
	mux.Handle("GET /{$}", http.RedirectHandler(dashboard.Prefix, http.StatusFound))
	return u, nil
}

// ServeHTTP serves the dashboard, or 503 while the daemon starts.
func (u *webUI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := u.handler.Load()
	if h == nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "dashboard: the daemon is starting", http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

// serve starts the dashboard as a client of the daemon's own control
// socket, like the CLI, so every action passes the API's checks.
func (u *webUI) serve(c *cli.Context) (stop func() error, err error) {
	api, err := client.Dial(socketPath(c), client.Options{})
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	cfg := u.cfg
	cfg.API = api
	ui, err := dashboard.New(cfg)
	if err != nil {
		return nil, errors.Join(err, api.Close())
	}
	u.handler.Store(ui)
	slog.Info("serving the dashboard", "url", u.url, "login", u.loginURL, "client-certificates", cfg.ClientCAs != nil)
	return func() error {
		u.handler.Store(nil)
		return errors.Join(ui.Close(), api.Close())
	}, nil
}

// browsable is addr as a browser elsewhere would name it: an address
// that listens on every interface (":9090", "0.0.0.0:9090") becomes this
// host's name.
func browsable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if name, err := os.Hostname(); err == nil {
			host = name
		}
	}
	return net.JoinHostPort(host, port)
}
