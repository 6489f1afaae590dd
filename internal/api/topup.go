package api

import (
	"net/http"

	"github.com/keel-outreach/keel/internal/send"
)

// inmailTopUp serves POST /api/v1/accounts/{id}/inmail/top-up: the
// account has InMail credits again, so its credits breaker is cleared,
// recorded as done by the calling token, and its parked prospects are
// looked at again (docs/sending.md#inmail-credits).
func (s *Server) inmailTopUp(w http.ResponseWriter, r *http.Request, p principal) {
	a, ok := s.loadAccount(w, r, p)
	if !ok {
		return
	}
	t, err := send.TopUpInMail(r.Context(), s.opts.DB, s.opts.Campaigns, send.TopUp{AccountID: a.ID,
		By: "token:" + p.TokenID, Source: send.TopUpManual, At: s.opts.Clock.Now()})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}
