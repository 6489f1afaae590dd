package web

import (
	"net/http"
)

// fail logs an unexpected error and answers 500 without its details.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.opts.Logger.Error("web request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	http.Error(w, "Something went wrong on Keel's side; the error is in the server log.", http.StatusInternalServerError)
}
