package web

import (
	"errors"
	"net/http"
	"time"

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
