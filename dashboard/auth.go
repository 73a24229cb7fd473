package dashboard

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// guard flags.
const (
	open   = 1 << iota // served before login (the login page itself)
	action             // a POST: CSRF token and origin checked
)

// handler is a page or action with the session of its browser.
type handler func(w http.ResponseWriter, r *http.Request, s *session)

// guard wraps h with the checks every request passes: the Host header
// (DNS rebinding), the dashboard being usable on this address at all,
// the session and login, and for actions the origin and CSRF token.
func (s *Server) guard(h handler, flags int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.cfg.Public && !loopbackHost(r.Host) {
			http.Error(w, "dashboard: this address serves only requests for localhost", http.StatusMisdirectedRequest)
			return
		}
		if s.cfg.Public && s.cfg.Token == "" && s.cfg.ClientCAs == nil {
			http.Error(w, "dashboard: refused: the server listens on a non-loopback address and has no "+
				"login configured; start it with --api-token-file (the token is the login) or --http-tls "+
				"(client certificates of the cluster CA)", http.StatusForbidden)
			return
		}
		sess := s.sessions.get(r)
		if sess == nil {
			sess = s.sessions.create(w, r, false)
		}
		if !s.admitted(r, sess) && flags&open == 0 {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "dashboard: log in first", http.StatusUnauthorized)
			return
		}
		if flags&action != 0 {
			if err := checkAction(r, sess); err != "" {
				http.Error(w, "dashboard: refused: "+err, http.StatusForbidden)
				return
			}
		}
		h(w, r, sess)
	}
}

// loginRequired tells whether pages need a login: always on a public
// address, and on loopback once there is a token (the daemon always
// gives one: other local users could otherwise reach what its 0600
// socket keeps from them).
func (s *Server) loginRequired() bool { return s.cfg.Public || s.cfg.Token != "" }

// admitted tells whether the session may see pages and act.
func (s *Server) admitted(r *http.Request, sess *session) bool {
	if !s.loginRequired() || sess.authed {
		return true
	}
	return s.cfg.ClientCAs != nil && r.TLS != nil && len(r.TLS.VerifiedChains) > 0
}

// checkAction returns why a POST is refused, or "" if it may run: an
// Origin header must name this host and the form must carry the
// session's CSRF token.
func checkAction(r *http.Request, sess *session) string {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return "the request comes from another site (" + o + ")"
		}
	}
	if err := r.ParseForm(); err != nil {
		return "bad form: " + err.Error()
	}
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(sess.csrf)) != 1 {
		return "the form is stale or from another site (CSRF token mismatch); reload the page"
	}
	return ""
}

// loopbackHost tells whether a Host header names this machine: localhost
// or a loopback address, with any port.
func loopbackHost(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// IsPublic tells whether a listen address (host:port) is reachable from
// other machines: anything but a loopback address or localhost.
func IsPublic(addr string) bool {
	h, _, err := net.SplitHostPort(addr)
	if err != nil || h == "" {
		return true
	}
	return !loopbackHost(h)
}

// loginPage shows the token form (or goes on when no login is needed).
// A link with ?token= (the one `cairn status` prints) logs in at once.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, sess *session) {
	if tok := r.URL.Query().Get("token"); tok != "" {
		s.checkToken(w, r, sess, tok, r.URL.Query().Get("next"))
		return
	}
	if s.admitted(r, sess) {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, sess, "login", "Log in", map[string]any{"Next": safeNext(r.URL.Query().Get("next")),
		"Token": s.cfg.Token != "", "Certs": s.cfg.ClientCAs != nil})
}

// login checks the token; a success starts a new session (the old id,
// known before login, must not become an authenticated one).
func (s *Server) login(w http.ResponseWriter, r *http.Request, sess *session) {
	s.checkToken(w, r, sess, r.PostFormValue("token"), r.PostFormValue("next"))
}

// checkToken logs the session in if tok is the token, then goes to next.
func (s *Server) checkToken(w http.ResponseWriter, r *http.Request, sess *session, tok, next string) {
	if s.cfg.Token == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.Token)) != 1 {
		time.Sleep(300 * time.Millisecond) // slows guessing
		s.log.Warn("dashboard: failed login", "remote", r.RemoteAddr)
		s.sessions.addFlash(sess, "error", "Wrong token.")
		http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(safeNext(next)), http.StatusSeeOther)
		return
	}
	s.sessions.drop(sess)
	s.sessions.create(w, r, true)
	s.log.Info("dashboard: login", "remote", r.RemoteAddr)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

// logout ends the session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, sess *session) {
	s.sessions.drop(sess)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// safeNext is where to go after login: a dashboard path, never another
// site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix
	}
	return next
}
