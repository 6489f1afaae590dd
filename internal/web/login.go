package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/signin"
	"github.com/keel-outreach/keel/internal/user"
	"github.com/keel-outreach/keel/internal/workspace"
)

// Sign-in limits (see internal/signin): LoginFailures failed attempts for
// one account within LoginWindow lock it; SourceFailures from one address,
// across emails, lock that address.
const (
	LoginFailures  = signin.AccountFailures
	SourceFailures = signin.SourceFailures
	LoginWindow    = signin.Window
)

type loginData struct {
	Workspace string
	Email     string
}

// loginPage shows the sign-in form, starting an anonymous session so the
// form carries a CSRF token.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	sess, err := s.current(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if sess != nil && sess.UserID != "" {
		http.Redirect(w, r, "/accounts", http.StatusSeeOther)
		return
	}
	if sess == nil {
		if sess, err = s.sessions.create(r.Context(), session{}); err != nil {
			s.fail(w, r, err)
			return
		}
		s.setCookie(w, sess)
	}
	s.render(w, r, http.StatusOK, "login", page{Title: "Sign in", Session: sess,
		Data: loginData{Workspace: r.URL.Query().Get("workspace")}})
}

// lockedMessage tells a refused user when to try again. The time is
// rounded up to the minute, so trying at the time shown always works.
func lockedMessage(e *signin.LockedError) string {
	at := e.Until.UTC()
	if t := at.Truncate(time.Minute); t.Before(at) {
		at = t.Add(time.Minute)
	}
	who := "for this email"
	if e.Scope == signin.ScopeSource {
		who = "from your address"
	}
	return fmt.Sprintf("Too many failed sign-ins %s; try again at %s UTC.", who, at.Format("15:04"))
}

// login checks the credentials within the sign-in limits (per account and
// per client address, counted in the database by every process) and
// replaces the anonymous session with a signed-in one.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	anon := sessionFrom(r)
	slug := strings.TrimSpace(r.PostFormValue("workspace"))
	email := strings.TrimSpace(r.PostFormValue("email"))
	password := r.PostFormValue("password")
	data := loginData{Workspace: slug, Email: email}
	attempt, err := signin.Begin(ctx, s.opts.DB, signin.AccountKey(slug, email), signin.Source(r.RemoteAddr), s.opts.Clock.Now())
	var lockErr *signin.LockedError
	if errors.As(err, &lockErr) {
		s.opts.Logger.Warn("sign-in refused: locked", "workspace", slug, "scope", string(lockErr.Scope))
		s.render(w, r, http.StatusTooManyRequests, "login", page{Title: "Sign in", Session: anon, Data: data,
			Error: lockedMessage(lockErr)})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ws, err := workspace.BySlug(ctx, s.opts.DB.SQL, slug)
	var u user.User
	if err == nil {
		u, err = user.Authenticate(ctx, s.opts.DB.SQL, ws.ID, email, password)
	} else if errors.Is(err, workspace.ErrNotFound) {
		// Same work and answer as a wrong password.
		_, _ = user.Authenticate(ctx, s.opts.DB.SQL, "", email, password)
	}
	if err != nil {
		if ferr := attempt.Failed(ctx, s.opts.Clock.Now()); ferr != nil {
			s.fail(w, r, ferr)
			return
		}
		s.opts.Logger.Info("sign-in failed", "workspace", slug)
		s.render(w, r, http.StatusUnauthorized, "login", page{Title: "Sign in", Session: anon, Data: data,
			Error: "Wrong workspace, email or password."})
		return
	}
	if err := attempt.Succeeded(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	if anon != nil {
		if err := s.sessions.delete(ctx, anon.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	sess, err := s.sessions.create(ctx, session{UserID: u.ID, Email: u.Email, WorkspaceID: ws.ID, WorkspaceSlug: ws.Slug})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setCookie(w, sess)
	s.opts.Logger.Info("signed in", "user_id", u.ID, "workspace", ws.Slug)
	http.Redirect(w, r, "/accounts", http.StatusSeeOther)
}
