package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/keel-outreach/keel/internal/jobs"
	"github.com/keel-outreach/keel/internal/role"
)

// QueueUIPath is where River's web UI answers (docs/operations.md#job-queue).
const QueueUIPath = jobs.UIPrefix + "/"

// queueUICSP is the policy of the queue UI's pages: River's UI is a
// script application served by Keel itself (no other origin), whose
// components set inline styles.
const queueUICSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; script-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// canSeeQueue decides who may open the job queue's UI, which shows every
// workspace's jobs and can cancel and retry them: a signed-in owner of the
// session's workspace (docs/teams.md#roles).
func canSeeQueue(sess *session) bool {
	return sess != nil && sess.UserID != "" && sess.Role == role.Owner
}

// queueUI guards River's UI and API (Options.QueueUI). An anonymous
// visitor is sent to sign in (the API answers 401); a request that changes
// something must come from Keel's own pages. Without a queue UI (SQLite)
// the page says it needs PostgreSQL.
func (s *Server) queueUI(w http.ResponseWriter, r *http.Request) {
	sess, err := s.current(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	api := strings.HasPrefix(r.URL.Path, QueueUIPath+"api/")
	if sess == nil || sess.UserID == "" {
		switch {
		case api:
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "Sign in first.", http.StatusUnauthorized)
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		default:
			http.Error(w, "Sign in first.", http.StatusForbidden)
		}
		return
	}
	ctx := context.WithValue(r.Context(), sessionKey{}, sess)
	r = r.WithContext(ctx)
	if !canSeeQueue(sess) {
		s.errorPage(w, r, http.StatusForbidden)
		return
	}
	if s.opts.QueueUI == nil {
		s.render(w, r, http.StatusNotImplemented, "error", page{Title: "The queue UI needs PostgreSQL",
			Data: errorData{Status: http.StatusNotImplemented, Heading: "The queue UI needs PostgreSQL",
				Text: "The job queue's web UI is available when Keel runs on PostgreSQL (KEEL_DATABASE_URL=postgres://…). " +
					"With SQLite, Keel's own pages show each account's sends and alerts."}})
		return
	}
	if !safeMethod(r.Method) && !sameOrigin(r) {
		// The session cookie is SameSite=Lax already; this also refuses
		// a same-site page on another origin.
		http.Error(w, "This request did not come from Keel's queue UI.", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Security-Policy", queueUICSP)
	s.opts.QueueUI.ServeHTTP(w, r)
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sameOrigin reports a request the browser says came from this origin:
// Sec-Fetch-Site when sent, else the Origin header against Host. A
// request with neither (not a browser's) carries no ambient risk.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin" || site == "none"
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}
