package web

import (
	"net/http"
	"time"
)

// CookieName is the session cookie.
const CookieName = "keel_session"

// sessionKey carries the request's session in its context.
type sessionKey struct{}

// sessionFrom returns the session the middleware put on the request.
func sessionFrom(r *http.Request) *session {
	s, _ := r.Context().Value(sessionKey{}).(*session)
	return s
}

// setCookie gives the browser the session's cookie.
func (s *Server) setCookie(w http.ResponseWriter, sess *session) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: sess.ID, Path: "/", HttpOnly: true,
		Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int(SessionMaxAge / time.Second)})
}

// clearCookie removes the session cookie.
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
