package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/keel-outreach/keel/internal/account"
)

// connectAccount starts connecting a new LinkedIn account through the
// provider's hosted-auth wizard.
func (s *Server) connectAccount(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	link, err := s.opts.Connect.CreateLink(r.Context(), sess.WorkspaceID)
	if err != nil {
		s.opts.Logger.Warn("creating a connect link failed", "error", err)
		s.flashRedirect(w, r, "/accounts", "Could not start connecting an account: the provider did not answer. Try again in a moment.")
		return
	}
	s.toProvider(w, r, link)
}

// toProvider sends the browser to a hosted-auth link: a redirect when the
// link is on Keel's own origin or one the Content-Security-Policy names
// (form-action governs a form's redirects), otherwise a page with a plain
// link, which form-action does not govern.
func (s *Server) toProvider(w http.ResponseWriter, r *http.Request, link string) {
	u, err := url.Parse(link)
	if err != nil || (u.Host != "" && u.Scheme != "https" && u.Scheme != "http") {
		s.fail(w, r, fmt.Errorf("hosted-auth link %q is not an http(s) URL", link))
		return
	}
	allowed := u.Host == "" || u.Host == r.Host
	for _, o := range s.opts.FormActionOrigins {
		allowed = allowed || strings.EqualFold(o, u.Scheme+"://"+u.Host)
	}
	if allowed {
		http.Redirect(w, r, link, http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "continue", page{Title: "Continue to the sign-in", Nav: "accounts", Data: link})
}

// reconnectAccount starts the hosted-auth wizard again for one of the
// workspace's accounts.
func (s *Server) reconnectAccount(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	link, err := s.opts.Connect.ReconnectLink(r.Context(), sess.WorkspaceID, r.PathValue("id"))
	if errors.Is(err, account.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.opts.Logger.Warn("creating a reconnect link failed", "error", err)
		s.flashRedirect(w, r, "/accounts", "Could not start the reconnect: the provider did not answer. Try again in a moment.")
		return
	}
	s.toProvider(w, r, link)
}
