package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/signin"
)

// CookieName is the session cookie.
const CookieName = "keel_session"

// SessionTTL is how long a signed-in session lasts without use.
const SessionTTL = 12 * time.Hour

// CSRFField is the hidden form field carrying the session's CSRF token.
const CSRFField = "csrf_token"

// Sign-in limits (see internal/signin): LoginFailures failed attempts for
// one account within LoginWindow lock it; SourceFailures from one address,
// across emails, lock that address.
const (
	LoginFailures  = signin.AccountFailures
	SourceFailures = signin.SourceFailures
	LoginWindow    = signin.Window
)

// SessionMaxAge bounds a session however often it is used.
const SessionMaxAge = 7 * 24 * time.Hour

// anonymousTTL is the life of a sign-in form's session: long enough to fill
// in the form, short enough that unused ones are swept soon.
const anonymousTTL = time.Hour

// touchEvery spares a write per page view: a session's expiry moves only
// when it was last extended this long ago.
const touchEvery = time.Minute

// maxFormBytes bounds a form body; imports get the CSV limit on top.
const maxFormBytes = 1 << 20

// session is one browser's state. Anonymous sessions (UserID empty) exist
// so that the sign-in form has a CSRF token too. ID is the cookie value; the
// database holds only its hash.
type session struct {
	ID            string
	CSRF          string
	UserID        string
	Email         string
	WorkspaceID   string
	WorkspaceSlug string
	Flash         string
	created       time.Time
	lastSeen      time.Time
}

// sessionStore keeps sessions in the web_sessions table, so a restart keeps
// people signed in and every replica on the database shares them.
type sessionStore struct {
	db    *db.DB
	clock clock.Clock
}

func newSessionStore(d *db.DB, c clock.Clock) *sessionStore {
	return &sessionStore{db: d, clock: c}
}

func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// hashID is the stored form of a session id: a leaked table signs no one in.
func hashID(sid string) string {
	sum := sha256.Sum256([]byte(sid))
	return hex.EncodeToString(sum[:])
}

// expiry is when a session seen at now ends.
func expiry(created, now time.Time, signedIn bool) time.Time {
	if !signedIn {
		return created.Add(anonymousTTL)
	}
	end := now.Add(SessionTTL)
	if limit := created.Add(SessionMaxAge); end.After(limit) {
		end = limit
	}
	return end
}

type sessionKey struct{}

func sessionFrom(r *http.Request) *session {
	s, _ := r.Context().Value(sessionKey{}).(*session)
	return s
}

func (s *Server) setCookie(w http.ResponseWriter, sess *session) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: sess.ID, Path: "/", HttpOnly: true,
		Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int(SessionMaxAge / time.Second)})
}

func (s *Server) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true,
		Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// current returns the request's session, or nil when it has none (or an
// unknown or expired one).
func (s *Server) current(r *http.Request) (*session, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return nil, nil
	}
	return s.sessions.get(r.Context(), c.Value)
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
		sess, err := s.current(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
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
		sess, err := s.current(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
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
		if r.Method == http.MethodGet && sess.Flash != "" {
			if err := s.sessions.clearFlash(r.Context(), sess.ID, sess.Flash); err != nil {
				s.fail(w, r, err)
				return
			}
		} else {
			// A message is shown by the next page, not read by a POST.
			sess.Flash = ""
		}
		next(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)))
	}
}

// flashRedirect stores a message for the next page and redirects there.
func (s *Server) flashRedirect(w http.ResponseWriter, r *http.Request, to, msg string) {
	if sess := sessionFrom(r); sess != nil && msg != "" {
		if err := s.sessions.setFlash(r.Context(), sess.ID, msg); err != nil {
			// The change itself is done; only its confirmation is lost.
			s.opts.Logger.Error("storing a flash message", "error", err)
		}
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
