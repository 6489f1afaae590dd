package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/keel-outreach/keel/internal/token"
)

// revokeToken revokes one of the workspace's tokens; another workspace's
// token is not found.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	t, err := token.Revoke(r.Context(), s.opts.DB.SQL, r.PathValue("id"), sess.WorkspaceID, s.opts.Clock.Now())
	if errors.Is(err, token.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.opts.Logger.Info("api token revoked", "token_id", t.ID, "workspace_id", t.WorkspaceID, "by", sess.Email)
	name := t.Name
	if name == "" {
		name = t.ID
	}
	s.flashRedirect(w, r, "/tokens", "Token "+name+" revoked at "+t.RevokedAt.UTC().Format(time.RFC3339)+".")
}
