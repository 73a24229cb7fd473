package dashboard

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

const (
	sessionCookie = "cairn_session"
	// sessionIdle ends a session nobody used for that long.
	sessionIdle = 12 * time.Hour
	// maxSessions bounds the sessions of each kind, anonymous and logged
	// in: past it the least recently used of that kind goes, so a flood
	// of anonymous requests can never log anybody out.
	maxSessions = 4096
)

// session is one browser: its CSRF token, whether it logged in, and the
// messages to show on its next page.
type session struct {
	id     string
	csrf   string
	authed bool
	seen   time.Time
	flash  []flash
}

// flash is a one-time message shown on the next page a session loads.
type flash struct {
	Kind string // "ok" or "error"
	Text string
}

// sessions are the live sessions, by id.
type sessions struct {
	mu   sync.Mutex
	byID map[string]*session
}

func newSessions() *sessions { return &sessions{byID: map[string]*session{}} }

// randomToken returns 32 random bytes, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// get returns the session of r's cookie, or nil.
func (ss *sessions) get(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.byID[c.Value]
	if s == nil || time.Since(s.seen) > sessionIdle {
		delete(ss.byID, c.Value)
		return nil
	}
	s.seen = time.Now()
	return s
}

// create starts a session and sets its cookie on w.
func (ss *sessions) create(w http.ResponseWriter, r *http.Request, authed bool) *session {
	s := &session{id: randomToken(), csrf: randomToken(), authed: authed, seen: time.Now()}
	ss.mu.Lock()
	if len(ss.byID) >= maxSessions {
		ss.evictLocked(authed)
	}
	ss.byID[s.id] = s
	ss.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.id, Path: Prefix, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	return s
}

// evictLocked drops the idle sessions and, if the sessions of the kind
// of authed are still maxSessions, the least recently used of them.
func (ss *sessions) evictLocked(authed bool) {
	var oldest *session
	n := 0
	for id, s := range ss.byID {
		if time.Since(s.seen) > sessionIdle {
			delete(ss.byID, id)
			continue
		}
		if s.authed != authed {
			continue
		}
		n++
		if oldest == nil || s.seen.Before(oldest.seen) {
			oldest = s
		}
	}
	if n >= maxSessions {
		delete(ss.byID, oldest.id)
	}
}

// drop ends a session.
func (ss *sessions) drop(s *session) {
	ss.mu.Lock()
	delete(ss.byID, s.id)
	ss.mu.Unlock()
}

// addFlash queues a message for the session's next page.
func (ss *sessions) addFlash(s *session, kind, text string) {
	ss.mu.Lock()
	s.flash = append(s.flash, flash{Kind: kind, Text: text})
	ss.mu.Unlock()
}

// takeFlash returns and clears the session's messages.
func (ss *sessions) takeFlash(s *session) []flash {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	f := s.flash
	s.flash = nil
	return f
}
