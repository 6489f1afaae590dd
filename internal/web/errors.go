package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/keel-outreach/keel/internal/role"
)

// Error pages (docs/surfaces.md#error-pages): a browser gets 404, 405 and
// 500 as Keel pages with the navigation; a client that asks for JSON only
// gets problem+json.

// errorData feeds templates/error.html.
type errorData struct {
	Status  int
	Heading string
	Text    string
	Allow   string
}

var errorTexts = map[int]errorData{
	http.StatusNotFound: {Heading: "Page not found",
		Text: "There is nothing at this address. It may have been removed, or the link may be mistyped."},
	http.StatusMethodNotAllowed: {Heading: "Not possible here",
		Text: "This address does not accept that kind of request. Go back to the page you came from and use its buttons."},
	http.StatusForbidden: {Heading: "Not allowed for your role",
		Text: "Your role in this workspace does not allow this change. Ask an owner of the workspace if you need it."},
	http.StatusInternalServerError: {Heading: "Something went wrong on Keel's side",
		Text: "Nothing you did caused this. The error is in the server log; try again in a moment."},
}

// fail logs an unexpected error and answers 500 without its details.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.opts.Logger.Error("web request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	s.errorPage(w, r, http.StatusInternalServerError)
}

// forbidden answers the HTML 403 page for a request the session's role
// may not make (docs/teams.md#roles), naming the role it would need.
func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, needed role.Role) {
	d := errorTexts[http.StatusForbidden]
	sess := sessionFrom(r)
	if sess != nil {
		d.Text = "Your role in workspace " + sess.WorkspaceSlug + " is " + string(sess.Role) +
			"; this change needs " + string(needed) + " or above. Ask an owner of the workspace if you need it."
	}
	s.errorPageWith(w, r, http.StatusForbidden, d)
}

// notFound answers the HTML 404 page.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound)
}

// wantsJSON reports a client that accepts JSON and not HTML.
func wantsJSON(r *http.Request) bool {
	acc := r.Header.Get("Accept")
	return strings.Contains(acc, "json") && !strings.Contains(acc, "text/html")
}

// errorPage writes the error page for status. It never calls fail, so a
// broken template cannot loop: it falls back to plain text.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int) {
	d, ok := errorTexts[status]
	if !ok {
		d = errorData{Heading: http.StatusText(status)}
	}
	s.errorPageWith(w, r, status, d)
}

// errorPageWith writes the error page for status with its texts.
func (s *Server) errorPageWith(w http.ResponseWriter, r *http.Request, status int, d errorData) {
	d.Status, d.Allow = status, w.Header().Get("Allow")
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Cache-Control", "no-store")
	if wantsJSON(r) {
		h.Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": d.Heading, "status": status, "detail": d.Text})
		return
	}
	p := page{Title: d.Heading, Sandbox: s.opts.Sandbox, Session: sessionFrom(r), Data: d}
	if p.Session == nil {
		// Paths no route matched never went through auth: look the
		// session up so the navigation shows for a signed-in user.
		if sess, err := s.current(r); err == nil && sess != nil && sess.UserID != "" {
			p.Session = sess
		}
	}
	if p.Session != nil {
		p.CSRF = p.Session.CSRF
	}
	var buf bytes.Buffer
	t, ok := s.pages["error"]
	if !ok || t.ExecuteTemplate(&buf, "layout.html", p) != nil {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(d.Heading + ". " + d.Text + "\n"))
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorCatcher turns the plain-text 404 and 405 answers of the router and
// of http.NotFound into the error page.
type errorCatcher struct {
	http.ResponseWriter
	s      *Server
	r      *http.Request
	caught bool
	wrote  bool
}

// WriteHeader replaces a plain-text 404 or 405 with the error page.
func (c *errorCatcher) WriteHeader(code int) {
	if c.wrote {
		return
	}
	c.wrote = true
	if (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) &&
		strings.HasPrefix(c.Header().Get("Content-Type"), "text/plain") {
		c.caught = true
		c.s.errorPage(c.ResponseWriter, c.r, code)
		return
	}
	c.ResponseWriter.WriteHeader(code)
}

// Write drops the plain text of a replaced answer.
func (c *errorCatcher) Write(b []byte) (int, error) {
	if c.caught {
		return len(b), nil
	}
	c.wrote = true
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (c *errorCatcher) Unwrap() http.ResponseWriter { return c.ResponseWriter }
