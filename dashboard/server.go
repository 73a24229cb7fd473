package dashboard

import (
	"crypto/x509"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/cairn-storage/cairn/control/client"
)

// Prefix is the path the dashboard is served under.
const Prefix = "/ui/"

//go:embed assets templates
var files embed.FS

// Config is what a dashboard serves and how it lets users in.
type Config struct {
	// API is the daemon's control API.
	API *client.Client
	// Token, if set, is the secret a login must give (the daemon's API
	// token). Public is set when the HTTP address is not loopback: then
	// every page needs a login (or a client certificate), and without a
	// Token or ClientCAs nothing is served.
	Token  string
	Public bool
	// ClientCAs, if set, admits TLS clients with a certificate it
	// verified (the HTTP server must request client certificates).
	ClientCAs *x509.CertPool
	// SampleEvery is how often volume I/O counters are sampled for the
	// graphs (default 2 s).
	SampleEvery time.Duration
	Logger      *slog.Logger
}

// Server serves the dashboard. Close stops its background work.
type Server struct {
	cfg      Config
	api      *client.Client
	log      *slog.Logger
	mux      *http.ServeMux
	pages    *pages
	sessions *sessions
	jobs     *jobs
	io       *sampler
}

// New returns the dashboard of cfg and starts sampling volume I/O.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SampleEvery <= 0 {
		cfg.SampleEvery = 2 * time.Second
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, api: cfg.API, log: cfg.Logger.With("component", "dashboard"), pages: p,
		sessions: newSessions(), jobs: newJobs()}
	s.io = startSampler(cfg.API, cfg.SampleEvery, s.log)
	s.mux = s.routes()
	return s, nil
}

// Close stops the sampler; jobs in flight run on to their end.
func (s *Server) Close() error {
	s.io.stop()
	return nil
}

// ServeHTTP serves a request under Prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Content-Security-Policy",
		"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	s.mux.ServeHTTP(w, r)
}

// routes maps every page and action. Pages are GETs; actions are POSTs
// that pass the CSRF check and answer with a redirect.
func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	assets, _ := fs.Sub(files, "assets")
	m.Handle("GET /ui/assets/", http.StripPrefix("/ui/assets/", cacheAssets(http.FileServerFS(assets))))
	m.HandleFunc("GET /ui/login", s.guard(s.loginPage, open))
	m.HandleFunc("POST /ui/login", s.guard(s.login, open|action))
	m.HandleFunc("POST /ui/logout", s.guard(s.logout, action))

	m.HandleFunc("GET /ui/{$}", s.guard(s.overview, 0))
	m.HandleFunc("GET /ui/events", s.guard(s.eventsFragment, 0))
	m.HandleFunc("GET /ui/volumes", s.guard(s.volumesPage, 0))
	m.HandleFunc("POST /ui/volumes", s.guard(s.createVolume, action))
	m.HandleFunc("GET /ui/volumes/{name}", s.guard(s.volumePage, 0))
	m.HandleFunc("GET /ui/volumes/{name}/io", s.guard(s.ioFragment, 0))
	m.HandleFunc("POST /ui/volumes/{name}/quota", s.guard(s.setQuota, action))
	m.HandleFunc("POST /ui/volumes/{name}/snapshot", s.guard(s.snapshotNow, action))
	m.HandleFunc("POST /ui/volumes/{name}/clone", s.guard(s.cloneVolume, action))
	m.HandleFunc("POST /ui/volumes/{name}/delete", s.guard(s.deleteVolume, action))
	m.HandleFunc("GET /ui/volumes/{name}/restore", s.guard(s.restorePage, 0))
	m.HandleFunc("POST /ui/volumes/{name}/restore", s.guard(s.restore, action))

	m.HandleFunc("GET /ui/snapshots", s.guard(s.snapshotsPage, 0))
	m.HandleFunc("GET /ui/snapshots/{ref}", s.guard(s.snapshotPage, 0))
	m.HandleFunc("POST /ui/snapshots/{ref}/clone", s.guard(s.cloneSnapshot, action))
	m.HandleFunc("POST /ui/snapshots/{ref}/delete", s.guard(s.deleteSnapshot, action))
	m.HandleFunc("POST /ui/snapshots/{ref}/push", s.guard(s.pushSnapshot, action))
	m.HandleFunc("GET /ui/snapshots/{ref}/send", s.guard(s.sendSnapshot, 0))
	m.HandleFunc("GET /ui/diff", s.guard(s.diffPage, 0))
	m.HandleFunc("GET /ui/schedules", s.guard(s.schedulesPage, 0))
	m.HandleFunc("POST /ui/schedules", s.guard(s.setSchedule, action))
	m.HandleFunc("POST /ui/schedules/{volume}/remove", s.guard(s.removeSchedule, action))

	m.HandleFunc("GET /ui/cluster", s.guard(s.clusterPage, 0))
	m.HandleFunc("POST /ui/cluster/{node}/drain", s.guard(s.drain, action))
	m.HandleFunc("GET /ui/maintenance", s.guard(s.maintenancePage, 0))
	m.HandleFunc("POST /ui/maintenance/{op}", s.guard(s.startMaintenance, action))
	m.HandleFunc("GET /ui/jobs/{id}", s.guard(s.jobPage, 0))
	m.HandleFunc("GET /ui/jobs/{id}/progress", s.guard(s.jobFragment, 0))
	m.HandleFunc("/ui/", s.guard(s.notFound, open))
	return m
}

// cacheAssets lets browsers keep the embedded assets for an hour: they
// change only with the binary.
func cacheAssets(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}
