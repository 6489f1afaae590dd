package web

import (
	"errors"
	"net/http"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/send"
)

// topUpInMail clears the account's InMail credits breaker, recorded as
// done by the signed-in user, and sends them back to the account page
// (docs/sending.md#inmail-credits).
func (s *Server) topUpInMail(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	a, err := s.opts.Accounts.Get(r.Context(), s.opts.DB.SQL, sess.WorkspaceID, r.PathValue("id"))
	if errors.Is(err, account.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := send.TopUpInMail(r.Context(), s.opts.DB, s.opts.Campaigns, send.TopUp{AccountID: a.ID, By: sess.Email,
		Source: send.TopUpManual, At: s.opts.Clock.Now()}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "/accounts/"+a.ID, "InMail credits breaker cleared; InMails resume on the next pass.")
}
