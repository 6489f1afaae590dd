package web

import (
	"net/http"

	"github.com/keel-outreach/keel/internal/text"
)

// hostedReturn is where the sandbox hosted-auth page's "Back to Keel" link
// leads (?link=<hosted-auth link id>): the page of the account the link
// reconnects or created, else the accounts overview
// (docs/surfaces.md#accounts-overview).
func (s *Server) hostedReturn(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	to := "/accounts"
	if linkID := r.URL.Query().Get("link"); linkID != "" && text.Valid(linkID) && len(linkID) <= 64 {
		acc, err := s.opts.Connect.LinkAccount(r.Context(), sess.WorkspaceID, linkID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if acc != "" {
			to = "/accounts/" + acc
		}
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
