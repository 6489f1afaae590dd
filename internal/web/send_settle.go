package web

import (
	"errors"
	"net/http"

	"github.com/keel-outreach/keel/internal/send"
)

// settleSend records a person's verdict on a send whose outcome is
// unknown (the campaign page's Sent / Not sent buttons) and returns to
// its campaign.
func (s *Server) settleSend(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	if s.opts.Sender == nil {
		http.Error(w, "Settling is not available on this server.", http.StatusServiceUnavailable)
		return
	}
	outcome := r.PostFormValue("outcome")
	if outcome != send.OutcomeSent && outcome != send.OutcomeNotSent {
		http.Error(w, `outcome must be "sent" or "not_sent"`, http.StatusUnprocessableEntity)
		return
	}
	info, err := s.opts.Sender.Settle(r.Context(), sess.WorkspaceID, r.PathValue("id"), outcome, sess.Email)
	switch {
	case errors.Is(err, send.ErrSendNotFound):
		http.NotFound(w, r)
		return
	case errors.Is(err, send.ErrNotSettleable):
		http.Error(w, "This send is already settled.", http.StatusConflict)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	msg := "Send settled as sent: the prospect moves on."
	if outcome == send.OutcomeNotSent {
		msg = "Send settled as not sent: the step will be tried again."
	}
	s.flashRedirect(w, r, "/campaigns/"+info.CampaignID, msg)
}
