package web

import (
	"errors"
	"net/http"

	"github.com/keel-outreach/keel/internal/account"
)

// removeAccountTag takes a tag off the account and goes back to its page.
func (s *Server) removeAccountTag(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	id, tag := r.PathValue("id"), r.PostFormValue("tag")
	err := s.opts.Accounts.RemoveTag(r.Context(), sess.WorkspaceID, id, tag)
	switch {
	case errors.Is(err, account.ErrNotFound):
		s.notFound(w, r)
	case err != nil:
		s.fail(w, r, err)
	default:
		s.flashRedirect(w, r, "/accounts/"+id+"#tags", "Tag "+tag+" removed.")
	}
}
