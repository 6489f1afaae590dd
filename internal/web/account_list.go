package web

import (
	"net/http"

	"github.com/keel-outreach/keel/internal/account"
)

type accountsData struct {
	Rows []accountRow
	Next string
	Prev bool
}

// accountsPage lists the workspace's accounts, PageSize at a time (keyset
// by id). Usage comes from one grouped ledger query for the whole page.
func (s *Server) accountsPage(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	after := r.URL.Query().Get("after")
	accs, err := s.opts.Accounts.List(r.Context(), s.opts.DB.SQL, account.ListOptions{WorkspaceID: sess.WorkspaceID, After: after, Limit: PageSize + 1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := accountsData{Prev: after != ""}
	if len(accs) > PageSize {
		accs = accs[:PageSize]
		data.Next = accs[len(accs)-1].ID
	}
	rows, err := s.accountRows(r.Context(), accs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data.Rows = rows
	s.render(w, r, http.StatusOK, "accounts", page{Title: "LinkedIn accounts", Nav: "accounts", Data: data})
}
