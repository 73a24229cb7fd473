package dashboard_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/cluster/pki"
	"github.com/cairn-storage/cairn/control/controltest"
	"github.com/cairn-storage/cairn/dashboard"
)

// On a public address every page needs the token; a login rotates the
// session; without a token configured nothing is served.
func TestLogin(t *testing.T) {
	s := startSite(t, dashboard.Config{Public: true, Token: "s3cret"})
	b := s.browser(t)
	for _, p := range []string{"/ui/", "/ui/volumes", "/ui/volumes/x/io", "/ui/events"} {
		code, loc, body := b.get(p)
		if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/login?next=") || strings.Contains(body, "<table") {
			t.Errorf("GET %s before login: %d %s", p, code, loc)
		}
	}
	if code, _ := b.post("/ui/volumes", url.Values{"name": {"x"}}, "/ui/login"); code != http.StatusUnauthorized {
		t.Errorf("action before login: %d, want 401", code)
	}
	b.post("/ui/login", url.Values{"token": {"wrong"}, "next": {"/ui/volumes"}}, "/ui/login")
	if _, _, body := b.get("/ui/login"); !strings.Contains(body, "Wrong token.") {
		t.Errorf("no message after a wrong token:\n%.1500s", body)
	}
	before := b.csrf("/ui/login")
	code, loc := b.post("/ui/login", url.Values{"token": {"s3cret"}, "next": {"/ui/volumes"}}, "/ui/login")
	if code != http.StatusSeeOther || loc != "/ui/volumes" {
		t.Fatalf("login: %d %s", code, loc)
	}
	if code, _, _ := b.get("/ui/volumes"); code != http.StatusOK {
		t.Fatalf("after login: %d", code)
	}
	if b.csrf("/ui/volumes") == before {
		t.Error("the session (and its CSRF token) was not renewed at login")
	}
	b.post("/ui/logout", url.Values{}, "/ui/volumes")
	if code, _, _ := b.get("/ui/volumes"); code != http.StatusSeeOther {
		t.Errorf("after logout: %d, want a redirect to login", code)
	}
}

func TestPublicWithoutToken(t *testing.T) {
	s := startSite(t, dashboard.Config{Public: true})
	code, _, body := s.browser(t).get("/ui/")
	if code != http.StatusForbidden || !strings.Contains(body, "--api-token-file") {
		t.Errorf("%d %s", code, body)
	}
}

// On loopback, a request naming another host (DNS rebinding) is refused.
func TestLoopbackHost(t *testing.T) {
	s := startSite(t, dashboard.Config{})
	req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/ui/", nil)
	req.Host = "evil.example:80"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("Host evil.example: %d", resp.StatusCode)
	}
}

func TestIsPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9090": false, "localhost:9090": false, "[::1]:9090": false, "127.0.0.2:1": false,
		":9090": true, "0.0.0.0:9090": true, "10.1.2.3:9090": true, "[::]:9090": true, "node1:9090": true, "junk": true,
	} {
		if got := dashboard.IsPublic(addr); got != want {
			t.Errorf("IsPublic(%q) = %v", addr, got)
		}
	}
}

// Over TLS, a client certificate of the cluster CA stands for a login;
// a client without one (Prometheus, say) still reaches the TLS server
// but not the pages.
func TestClientCertificate(t *testing.T) {
	ca, err := pki.NewCA("test")
	if err != nil {
		t.Fatal(err)
	}
	bundle := func(name string, kind pki.Kind) *pki.Bundle {
		certPEM, keyPEM, err := ca.Issue(name, kind, []string{"127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := pki.NewBundle(ca.CertPEM(), certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	node, user := bundle("n1", pki.KindNode), bundle("alice", pki.KindClient)
	d := controltest.Start(t, controltest.Options{})
	ui, err := dashboard.New(dashboard.Config{API: d.API, Public: true, ClientCAs: node.Roots})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ui.Close() })
	srv := httptest.NewUnstartedServer(ui)
	srv.TLS = node.ServerTLS()
	srv.TLS.ClientAuth = tls.VerifyClientCertIfGiven
	srv.TLS.NextProtos = nil
	srv.StartTLS()
	t.Cleanup(srv.Close)
	get := func(withCert bool) (int, string) {
		conf := user.ClientTLS()
		conf.NextProtos = nil
		if !withCert {
			conf.Certificates = nil
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: conf},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(srv.URL + "/ui/volumes")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	if code, _ := get(true); code != http.StatusOK {
		t.Errorf("with a client certificate: %d", code)
	}
	if code, loc := get(false); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/login") {
		t.Errorf("without one: %d %s", code, loc)
	}
}

// The link `cairn status` prints logs in with a GET and drops the token
// from the address; a wrong one logs nobody in.
func TestLoginLink(t *testing.T) {
	s := startSite(t, dashboard.Config{Token: "t0k"})
	b := s.browser(t)
	if code, loc, _ := b.get("/ui/volumes"); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/login") {
		t.Fatalf("loopback with a token, before login: %d %s", code, loc)
	}
	if code, loc, _ := b.get("/ui/login?token=nope"); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/login") {
		t.Errorf("wrong token link: %d %s", code, loc)
	}
	if code, loc, _ := b.get("/ui/login?token=t0k&next=/ui/volumes"); code != http.StatusSeeOther || loc != "/ui/volumes" {
		t.Fatalf("login link: %d %s", code, loc)
	}
	if code, _, _ := b.get("/ui/volumes"); code != http.StatusOK {
		t.Errorf("after the link: %d", code)
	}
}
