package api

import (
	"errors"
	"net/http"

	"github.com/keel-outreach/keel/internal/send"
)

// The send ledger's unknown outcomes, listed and settled by a person
// (docs/sending.md#settling-by-hand).
func (s *Server) registerSendRoutes() {
	s.handle("GET /api/v1/sends", s.listSends)
	s.handle("POST /api/v1/sends/{id}/settle", s.settleSend)
}

func (s *Server) listSends(w http.ResponseWriter, r *http.Request, p principal) {
	limit, cursor, err := page(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, "bad request", err.Error())
		return
	}
	// Only the sends that wait for a person are listed (for now); state
	// defaults to unknown.
	if st := r.URL.Query().Get("state"); st != "" && st != "unknown" {
		msg := `state must be "unknown"`
		invalid(w, "invalid query", "state: "+msg, []fieldError{{Field: "state", Message: msg}})
		return
	}
	list, err := send.ListUnknown(r.Context(), s.opts.DB.SQL, p.WorkspaceID, cursor, limit+1)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, list, limit, func(x send.SendInfo) string { return x.ID })
}

func (s *Server) settleSend(w http.ResponseWriter, r *http.Request, p principal) {
	if _, err := send.Get(r.Context(), s.opts.DB.SQL, p.WorkspaceID, r.PathValue("id")); errors.Is(err, send.ErrSendNotFound) {
		Problem(w, http.StatusNotFound, "not found", "no such send")
		return
	} else if err != nil {
		s.internal(w, r, err)
		return
	}
	var body settleRequest
	if !decodeBody(w, r, &body) {
		return
	}
	outcome, _ := body.Outcome.(string)
	if outcome != send.OutcomeSent && outcome != send.OutcomeNotSent {
		msg := `outcome must be "sent" or "not_sent"`
		invalid(w, "invalid settlement", "outcome: "+msg, []fieldError{{Field: "outcome", Message: msg}})
		return
	}
	if s.opts.Sender == nil {
		Problem(w, http.StatusServiceUnavailable, "unavailable", "the sender is not configured")
		return
	}
	info, err := s.opts.Sender.Settle(r.Context(), p.WorkspaceID, r.PathValue("id"), outcome, "token:"+p.TokenID)
	switch {
	case errors.Is(err, send.ErrSendNotFound):
		Problem(w, http.StatusNotFound, "not found", "no such send")
	case errors.Is(err, send.ErrNotSettleable):
		Problem(w, http.StatusConflict, "conflict", err.Error())
	case err != nil:
		s.internal(w, r, err)
	default:
		writeJSON(w, http.StatusOK, info)
	}
}
