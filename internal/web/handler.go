package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/keel-outreach/keel/internal/text"
)

// reserved are the path prefixes the app itself serves.
var reserved = []string{"/api/", "/webhooks/", "/sandbox/"}

// reservedExact are the exact paths the app itself serves.
var reservedExact = []string{"/healthz", "/readyz", "/metrics"}

// Handler serves the UI. Paths the app owns answer 404 here.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range reserved {
			if strings.HasPrefix(r.URL.Path, p) {
				http.NotFound(w, r)
				return
			}
		}
		for _, p := range reservedExact {
			if r.URL.Path == p {
				http.NotFound(w, r)
				return
			}
		}
		setSecurityHeaders(w.Header(), s.csp)
		switch param, msg := text.URLProblem(r.URL); {
		case msg == "":
		case param == "":
			// No page or object has control characters in its path, and
			// an id with a NUL would make PostgreSQL error.
			http.NotFound(w, r)
			return
		default:
			http.Error(w, "Bad request: query parameter "+strconv.QuoteToASCII(param)+" holds control characters.", http.StatusBadRequest)
			return
		}
		s.mux.ServeHTTP(&errorCatcher{ResponseWriter: w, s: s, r: r}, r)
	})
}
