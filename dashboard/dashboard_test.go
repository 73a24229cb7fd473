package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/control/controltest"
	"github.com/cairn-storage/cairn/dashboard"
)

// site is a dashboard over a real daemon, served over HTTP on loopback.
type site struct {
	d   *controltest.Daemon
	srv *httptest.Server
}

func startSite(t *testing.T, cfg dashboard.Config) *site {
	t.Helper()
	d := controltest.Start(t, controltest.Options{})
	cfg.API = d.API
	cfg.SampleEvery = 50 * time.Millisecond
	ui, err := dashboard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ui.Close() })
	srv := httptest.NewServer(ui)
	t.Cleanup(srv.Close)
	return &site{d: d, srv: srv}
}

// browser is an HTTP client with cookies that does not follow redirects,
// so a test sees each 303.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (s *site) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: s.srv.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get returns the status, Location and body of a GET.
func (b *browser) get(path string) (int, string, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// post submits a form; csrf true adds the session's token, taken from
// the page at from.
func (b *browser) post(path string, form url.Values, csrfFrom string, hdr ...string) (int, string) {
	b.t.Helper()
	if csrfFrom != "" {
		form.Set("csrf", b.csrf(csrfFrom))
	}
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the forms on page.
func (b *browser) csrf(page string) string {
	b.t.Helper()
	_, _, body := b.get(page)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("%s has no CSRF field", page)
	}
	return m[1]
}

var h1 = regexp.MustCompile(`<h1>([^<]*)</h1>`)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// Every page renders with its title over a daemon with a volume and a
// snapshot; unknown names are 404 pages, not errors.
func TestPages(t *testing.T) {
	s := startSite(t, dashboard.Config{})
	api := s.d.API
	if _, err := api.Volumes.CreateVolume(ctx(t), &cairnv1.CreateVolumeRequest{Name: "db"}); err != nil {
		t.Fatal(err)
	}
	for _, snap := range []string{"a", "b"} {
		if _, err := api.Snapshots.CreateSnapshot(ctx(t), &cairnv1.CreateSnapshotRequest{Volume: "db", Name: snap}); err != nil {
			t.Fatal(err)
		}
	}
	b := s.browser(t)
	tests := []struct {
		path   string
		status int
		title  string
	}{
		{"/ui/", 200, "Overview"},
		{"/ui/volumes", 200, "Volumes"},
		{"/ui/volumes/db", 200, "Volume db"},
		{"/ui/volumes/db/restore?snapshot=a", 200, "Restore db"},
		{"/ui/snapshots", 200, "Snapshots"},
		{"/ui/snapshots?volume=db", 200, "Snapshots"},
		{"/ui/snapshots/db@a", 200, "Snapshot db@a"},
		{"/ui/diff?from=db@a&to=db@b", 200, "Diff"},
		{"/ui/schedules", 200, "Schedules"},
		{"/ui/cluster", 200, "Cluster"},
		{"/ui/maintenance", 200, "Maintenance"},
		{"/ui/volumes/nope", 404, "Volume nope"},
		{"/ui/snapshots/db@nope", 404, "Snapshot db@nope"},
		{"/ui/jobs/99", 404, "No such job"},
		{"/ui/nowhere", 404, "Not found"},
	}
	for _, tt := range tests {
		code, _, body := b.get(tt.path)
		m := h1.FindStringSubmatch(body)
		if code != tt.status || m == nil || m[1] != tt.title {
			t.Errorf("GET %s: %d, h1 %q; want %d, %q", tt.path, code, m, tt.status, tt.title)
		}
	}
	if code, _, body := b.get("/ui/volumes/db/io"); code != 200 || !strings.Contains(body, `id="io"`) {
		t.Errorf("io fragment: %d %.200s", code, body)
	}
	if code, _, body := b.get("/ui/assets/app.js"); code != 200 || !strings.Contains(body, "data-refresh") {
		t.Errorf("app.js: %d", code)
	}
}
