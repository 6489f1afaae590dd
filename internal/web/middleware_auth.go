package web

import (
	"context"
	"net/http"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/role"
	"github.com/keel-outreach/keel/internal/user"
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
		// The role decides before the handler runs, so a refused form
		// changes nothing (docs/teams.md#roles).
		if !role.MayRoute(sess.Role, r.Pattern) {
			s.opts.Logger.Info("refused by role", "user_id", sess.UserID, "role", string(sess.Role), "route", r.Pattern)
			s.forbidden(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)), role.Needed(r.Pattern))
			return
		}
		if r.Method == http.MethodGet {
			ms, err := user.Memberships(r.Context(), s.opts.DB.SQL, sess.UserID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			sess.Memberships = ms
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
		ctx := campaign.WithActor(context.WithValue(r.Context(), sessionKey{}, sess), "user:"+sess.Email)
		next(w, r.WithContext(ctx))
	}
}
