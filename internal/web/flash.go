package web

import (
	"net/http"
)

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
