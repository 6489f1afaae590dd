package web

import (
	"context"
	"net/http"
)

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
