package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/keel-outreach/keel/internal/user"
	"github.com/keel-outreach/keel/internal/workspace"
)

type loginData struct {
	Workspace string
	Email     string
}

// loginPage shows the sign-in form, starting an anonymous session so the
// form carries a CSRF token.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	sess := s.current(r)
	if sess != nil && sess.UserID != "" {
		http.Redirect(w, r, "/accounts", http.StatusSeeOther)
		return
	}
	if sess == nil {
		var err error
		if sess, err = s.sessions.create(session{}); err != nil {
			s.fail(w, r, err)
			return
		}
		s.setCookie(w, sess)
	}
	s.render(w, r, http.StatusOK, "login", page{Title: "Sign in", Session: sess,
		Data: loginData{Workspace: r.URL.Query().Get("workspace")}})
}

// login checks the credentials, rate-limited per client IP and email, and
// replaces the anonymous session with a signed-in one.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	anon := sessionFrom(r)
	slug := strings.TrimSpace(r.PostFormValue("workspace"))
	email := strings.TrimSpace(r.PostFormValue("email"))
	password := r.PostFormValue("password")
	data := loginData{Workspace: slug, Email: email}
	key := limiterKey(r, slug, email)
	if blocked, until := s.limiter.blocked(key); blocked {
		wait := until.Sub(s.opts.Clock.Now()).Round(60e9)
		s.opts.Logger.Warn("sign-in rate limited", "workspace", slug)
		s.render(w, r, http.StatusTooManyRequests, "login", page{Title: "Sign in", Session: anon, Data: data,
			Error: fmt.Sprintf("Too many failed sign-in attempts for this email. Try again in %s.", fmtWait(wait))})
		return
	}
	ws, err := workspace.BySlug(r.Context(), s.opts.DB.SQL, slug)
	var u user.User
	if err == nil {
		u, err = user.Authenticate(r.Context(), s.opts.DB.SQL, ws.ID, email, password)
	} else if errors.Is(err, workspace.ErrNotFound) {
		// Same work and answer as a wrong password.
		_, _ = user.Authenticate(r.Context(), s.opts.DB.SQL, "", email, password)
	}
	if err != nil {
		s.limiter.fail(key)
		s.opts.Logger.Info("sign-in failed", "workspace", slug)
		s.render(w, r, http.StatusUnauthorized, "login", page{Title: "Sign in", Session: anon, Data: data,
			Error: "Wrong workspace, email or password."})
		return
	}
	s.limiter.reset(key)
	if anon != nil {
		s.sessions.delete(anon.ID)
	}
	sess, err := s.sessions.create(session{UserID: u.ID, Email: u.Email, WorkspaceID: ws.ID, WorkspaceSlug: ws.Slug})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setCookie(w, sess)
	s.opts.Logger.Info("signed in", "user_id", u.ID, "workspace", ws.Slug)
	http.Redirect(w, r, "/accounts", http.StatusSeeOther)
}

func fmtWait(d interface{ Minutes() float64 }) string {
	m := int(d.Minutes())
	if m <= 1 {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", m)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if sess := sessionFrom(r); sess != nil {
		s.sessions.delete(sess.ID)
	}
	s.clearCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
