package dashboard

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// pages are the parsed templates: one set per page, each with the layout
// and the shared partials.
type pages struct {
	sets map[string]*template.Template
}

// parsePages parses templates/*.html: layout.html and partials.html are
// shared, every other file is a page named after it.
func parsePages() (*pages, error) {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{sets: map[string]*template.Template{}}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return nil, fmt.Errorf("dashboard template %s: %w", n, err)
		}
		p.sets[base] = t
	}
	return p, nil
}

// view is what the layout needs around a page's own data.
type view struct {
	Title  string
	Page   string
	CSRF   string
	Flash  []flash
	Logout bool // a session that logged in can log out
	Data   any
}

// render writes page with data inside the layout.
func (s *Server) render(w http.ResponseWriter, r *http.Request, sess *session, page, title string, data any) {
	s.renderStatus(w, r, sess, http.StatusOK, page, title, data)
}

// renderStatus is render with an HTTP status other than 200. A whole
// page shows (and so consumes) the session's messages.
func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, sess *session, status int, page, title string, data any) {
	v := s.viewOf(sess, page, title, data)
	v.Flash = s.sessions.takeFlash(sess)
	s.write(w, page, "layout", v, status)
}

// fragment writes one named template of page alone: the part a script
// refreshes. It leaves the session's messages for the next whole page.
func (s *Server) fragment(w http.ResponseWriter, r *http.Request, sess *session, page, name string, data any) {
	s.write(w, page, name, s.viewOf(sess, page, "", data), http.StatusOK)
}

func (s *Server) viewOf(sess *session, page, title string, data any) view {
	return view{Title: title, Page: page, CSRF: sess.csrf, Data: data, Logout: sess.authed}
}

// write executes the template into a buffer first, so a template error
// is a clean 500 rather than half a page.
func (s *Server) write(w http.ResponseWriter, page, name string, v view, status int) {
	t := s.pages.sets[page]
	if t == nil {
		http.Error(w, "dashboard: no page "+page, http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, v); err != nil {
		s.log.Error("dashboard: rendering", "page", page, "template", name, "err", err)
		http.Error(w, "dashboard: rendering failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = b.WriteTo(w) // a client gone mid-page is not our error
}

// notFound is the page of an unknown path.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, sess *session) {
	s.renderStatus(w, r, sess, http.StatusNotFound, "error", "Not found",
		map[string]any{"Error": "There is no page at " + r.URL.Path + "."})
}
