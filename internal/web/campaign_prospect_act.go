package web

// Pause, resume, skip or remove one prospect from the campaign page
// (docs/campaigns.md#acting-on-one-prospect).

import (
	"errors"
	"net/http"
	"strings"

	"github.com/keel-outreach/keel/internal/campaign"
)

var prospectDone = map[campaign.ProspectOp]string{
	campaign.OpPause:  "Prospect paused.",
	campaign.OpResume: "Prospect resumed; it is due now.",
	campaign.OpSkip:   "Prospect moved past its step.",
	campaign.OpRemove: "Prospect removed from the campaign.",
}

func (s *Server) actOnProspect(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	cid, op := r.PathValue("id"), campaign.ProspectOp(r.PathValue("op"))
	if !op.Valid() {
		http.NotFound(w, r)
		return
	}
	back := "/campaigns/" + cid
	// Back to the same filtered page, never elsewhere.
	if ret := r.PostFormValue("return"); strings.HasPrefix(ret, back+"?") || ret == back {
		back = ret
	}
	err := s.opts.Campaigns.ActOnProspect(r.Context(), sess.WorkspaceID, cid, r.PathValue("eid"), op)
	s.forgetFigures(cid)
	var se *campaign.StateError
	switch {
	case errors.Is(err, campaign.ErrNotFound):
		http.NotFound(w, r)
	case errors.As(err, &se):
		s.flashRedirect(w, r, back+"#prospects", "Not done: "+se.Message+".")
	case err != nil:
		s.fail(w, r, err)
	default:
		s.flashRedirect(w, r, back+"#prospects", prospectDone[op])
	}
}
