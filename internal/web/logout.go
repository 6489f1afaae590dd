package web

import (
	"net/http"
)

// logout deletes the session's row, so the cookie signs no one in anywhere.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if sess := sessionFrom(r); sess != nil {
		if err := s.sessions.delete(r.Context(), sess.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.clearCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
