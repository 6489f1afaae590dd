package api

import (
	"errors"
	"net/http"

	"github.com/keel-outreach/keel/internal/account"
)

// registerTagRoutes serves an account's tags (docs/accounts.md#tags).
func (s *Server) registerTagRoutes() {
	s.handle("PUT /api/v1/accounts/{id}/tags", s.putAccountTags)
}

// accountTagsBody is PUT /api/v1/accounts/{id}/tags: the whole set.
type accountTagsBody struct {
	Tags *[]string `json:"tags"`
}

// putAccountTags replaces an account's tags with the body's set: every bad
// entry is named at once (tags[i]), 422, and nothing changes; the answer
// is the account with its new tags.
func (s *Server) putAccountTags(w http.ResponseWriter, r *http.Request, p principal) {
	// Another workspace's account is 404 whatever the body says.
	if _, ok := s.loadAccount(w, r, p); !ok {
		return
	}
	var body accountTagsBody
	if !decodeBody(w, r, &body) {
		return
	}
	if body.Tags == nil {
		invalid(w, "invalid tags", "tags: required (an array of tags; [] removes them all)",
			[]fieldError{{Field: "tags", Message: "required (an array of tags; [] removes them all)"}})
		return
	}
	_, err := s.opts.Accounts.SetTags(r.Context(), p.WorkspaceID, r.PathValue("id"), *body.Tags, "token:"+p.TokenID)
	var te *account.TagsError
	switch {
	case errors.Is(err, account.ErrNotFound):
		Problem(w, http.StatusNotFound, "not found", "no such account")
		return
	case errors.As(err, &te):
		invalid(w, "invalid tags", te.Error(), te.Fields)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	a, ok := s.loadAccount(w, r, p)
	if !ok {
		return
	}
	s.writeAccount(w, r, http.StatusOK, a)
}

// writeAccount answers one account, with its tags.
func (s *Server) writeAccount(w http.ResponseWriter, r *http.Request, status int, a account.Account) {
	list := []account.Account{a}
	if err := account.LoadTags(r.Context(), s.opts.DB.SQL, list); err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, status, list[0])
}
