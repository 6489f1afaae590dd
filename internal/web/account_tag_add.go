package web

import (
	"errors"
	"net/http"

	"github.com/keel-outreach/keel/internal/account"
)

// addAccountTag puts a tag on the account (docs/accounts.md#tags) and goes
// back to its page; a tag that is not one (or an eleventh) is shown
// again with its error, 422, nothing changed.
func (s *Server) addAccountTag(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	id, typed := r.PathValue("id"), r.PostFormValue("tag")
	err := s.opts.Accounts.AddTag(r.Context(), sess.WorkspaceID, id, typed, "user:"+sess.Email)
	switch {
	case errors.Is(err, account.ErrBadTag), errors.Is(err, account.ErrTooManyTags):
		s.showAccountWith(w, r, accountView{tagInput: typed, tagError: err.Error()})
	case errors.Is(err, account.ErrNotFound):
		s.notFound(w, r)
	case err != nil:
		s.fail(w, r, err)
	default:
		tag, _ := account.NormalizeTag(typed)
		s.flashRedirect(w, r, "/accounts/"+id+"#tags", "Tag "+tag+" added.")
	}
}
