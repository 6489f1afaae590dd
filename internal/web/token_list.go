package web

import (
	"net/http"

	"github.com/keel-outreach/keel/internal/token"
)

type tokensData struct {
	Tokens []tokenRow
}

type tokenRow struct {
	token.Token
	State string
}

// tokensPage lists the workspace's API tokens (never a secret or hash) with
// a Revoke button on each active one. Tokens are created with
// `keel token create`, which shows the secret once.
func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	list, err := token.List(r.Context(), s.opts.DB.SQL, sess.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.opts.Clock.Now()
	rows := make([]tokenRow, 0, len(list))
	for _, t := range list {
		rows = append(rows, tokenRow{Token: t, State: t.State(now)})
	}
	s.render(w, r, http.StatusOK, "tokens", page{Title: "API tokens", Nav: "tokens", Data: tokensData{Tokens: rows}})
}
