package web

import (
	"errors"
	"net/http"

	"github.com/keel-outreach/keel/internal/campaign"
)

// removeDNC deletes one of the workspace's entries; another workspace's
// entry is not found.
func (s *Server) removeDNC(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	err := s.opts.Campaigns.RemoveDNC(r.Context(), sess.WorkspaceID, r.PathValue("id"))
	if errors.Is(err, campaign.ErrDNCNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.opts.Logger.Info("do-not-contact entry removed", "entry_id", r.PathValue("id"), "workspace_id", sess.WorkspaceID, "by", sess.Email)
	s.flashRedirect(w, r, "/do-not-contact", "Entry removed. Sequences it ended stay ended.")
}
