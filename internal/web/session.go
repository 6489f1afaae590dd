package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
)

// CookieName is the session cookie.
const CookieName = "keel_session"

// SessionTTL is how long a session lasts without use.
const SessionTTL = 12 * time.Hour

// CSRFField is the hidden form field carrying the session's CSRF token.
const CSRFField = "csrf_token"

// Sign-in rate limit: at most LoginFailures failed attempts per client IP
// and email within LoginWindow.
const (
	LoginFailures = 5
	LoginWindow   = 15 * time.Minute
)

// maxFormBytes bounds a form body; imports get the CSV limit on top.
const maxFormBytes = 1 << 20

// session is one browser's state. Anonymous sessions (UserID empty) exist
// so that the sign-in form has a CSRF token too.
type session struct {
	ID            string
	CSRF          string
	UserID        string
	Email         string
	WorkspaceID   string
	WorkspaceSlug string
	Flash         string
	expires       time.Time
}

// sessionStore keeps sessions in memory, keyed by a random 32-byte id.
// Sessions are per process: a restart or a second replica does not share
// them.
type sessionStore struct {
	clock clock.Clock
	mu    sync.Mutex
	m     map[string]*session
}

func newSessionStore(c clock.Clock) *sessionStore {
	return &sessionStore{clock: c, m: map[string]*session{}}
}

func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// create starts a session (anonymous when userID is empty).
func (st *sessionStore) create(seed session) (*session, error) {
	sid, err := randomToken()
	if err != nil {
		return nil, err
	}
	tok, err := randomToken()
	if err != nil {
		return nil, err
	}
	s := seed
	s.ID, s.CSRF, s.expires = sid, tok, st.clock.Now().Add(SessionTTL)
	st.mu.Lock()
	defer st.mu.Unlock()
	now := st.clock.Now()
	if len(st.m) > 10000 {
		for k, v := range st.m {
			if now.After(v.expires) {
				delete(st.m, k)
			}
		}
	}
	st.m[sid] = &s
	return &s, nil
}

// get returns a copy of a live session and extends it.
func (st *sessionStore) get(sid string) *session {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.m[sid]
	if !ok {
		return nil
	}
	now := st.clock.Now()
	if now.After(s.expires) {
		delete(st.m, sid)
		return nil
	}
	s.expires = now.Add(SessionTTL)
	c := *s
	return &c
}

func (st *sessionStore) delete(sid string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.m, sid)
}

// setFlash stores a one-time message shown on the next page.
func (st *sessionStore) setFlash(sid, msg string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s, ok := st.m[sid]; ok {
		s.Flash = msg
	}
}

// takeFlash returns and clears the one-time message.
func (st *sessionStore) takeFlash(sid string) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.m[sid]
	if !ok {
		return ""
	}
	msg := s.Flash
	s.Flash = ""
	return msg
}

type sessionKey struct{}

func sessionFrom(r *http.Request) *session {
	s, _ := r.Context().Value(sessionKey{}).(*session)
	return s
}

func (s *Server) setCookie(w http.ResponseWriter, sess *session) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: sess.ID, Path: "/", HttpOnly: true,
		Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int(SessionTTL / time.Second)})
}

func (s *Server) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true,
		Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// current returns the request's session, if any.
func (s *Server) current(r *http.Request) *session {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return nil
	}
	return s.sessions.get(c.Value)
}

// parseForm reads a POST body (urlencoded or multipart) within limits.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "multipart/form-data") {
		r.Body = http.MaxBytesReader(w, r.Body, maxUploadBytes+maxFormBytes)
		return r.ParseMultipartForm(maxUploadBytes + maxFormBytes)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	return r.ParseForm()
}

// validCSRF checks the form's token against the session's in constant time.
func validCSRF(r *http.Request, sess *session) bool {
	if sess == nil || sess.CSRF == "" {
		return false
	}
	got := r.PostFormValue(CSRFField)
	if got == "" && r.MultipartForm != nil {
		if v := r.MultipartForm.Value[CSRFField]; len(v) > 0 {
			got = v[0]
		}
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) == 1
}

// csrf guards a POST handler that may run without a signed-in user (the
// sign-in form): the session may be anonymous, but the token must match.
func (s *Server) csrf(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := s.current(r)
		if err := parseForm(w, r); err != nil {
			http.Error(w, "The form could not be read.", http.StatusBadRequest)
			return
		}
		if !validCSRF(r, sess) {
			http.Error(w, "This form has expired or did not come from Keel. Reload the page and try again.", http.StatusForbidden)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)))
	}
}

// auth requires a signed-in session; for POST it also checks the CSRF
// token before the handler runs, so a refused form changes nothing.
func (s *Server) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := s.current(r)
		if sess == nil || sess.UserID == "" {
			if r.Method != http.MethodGet {
				http.Error(w, "Sign in first.", http.StatusForbidden)
				return
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			if err := parseForm(w, r); err != nil {
				http.Error(w, "The form could not be read (too large?).", http.StatusBadRequest)
				return
			}
			if !validCSRF(r, sess) {
				http.Error(w, "This form has expired or did not come from Keel. Reload the page and try again.", http.StatusForbidden)
				return
			}
		}
		if r.Method == http.MethodGet {
			sess.Flash = s.sessions.takeFlash(sess.ID)
		}
		next(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)))
	}
}

// flashRedirect stores a message for the next page and redirects there.
func (s *Server) flashRedirect(w http.ResponseWriter, r *http.Request, to, msg string) {
	if sess := sessionFrom(r); sess != nil && msg != "" {
		s.sessions.setFlash(sess.ID, msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// loginLimiter counts failed sign-ins per client IP and email.
type loginLimiter struct {
	clock clock.Clock
	mu    sync.Mutex
	fails map[string][]time.Time
}

func newLoginLimiter(c clock.Clock) *loginLimiter {
	return &loginLimiter{clock: c, fails: map[string][]time.Time{}}
}

func limiterKey(r *http.Request, slug, email string) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return host + "\x00" + strings.ToLower(strings.TrimSpace(slug)) + "\x00" + strings.ToLower(strings.TrimSpace(email))
}

// recent drops failures older than the window and returns what is left.
func (l *loginLimiter) recentLocked(key string) []time.Time {
	cutoff := l.clock.Now().Add(-LoginWindow)
	kept := l.fails[key][:0]
	for _, t := range l.fails[key] {
		if t.After(cutoff) {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(l.fails, key)
		return nil
	}
	l.fails[key] = kept
	return kept
}

// blocked reports whether the key is over the limit, and until when.
func (l *loginLimiter) blocked(key string) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.recentLocked(key)
	if len(f) >= LoginFailures {
		return true, f[0].Add(LoginWindow)
	}
	return false, time.Time{}
}

func (l *loginLimiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recentLocked(key)
	l.fails[key] = append(l.fails[key], l.clock.Now())
}

func (l *loginLimiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}
