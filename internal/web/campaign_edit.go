package web

// The edit-campaign page and its submit.

import (
	"errors"
	"net/http"

	"github.com/keel-outreach/keel/internal/campaign"
)

func (s *Server) editCampaignPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	s.renderCampaignForm(w, r, http.StatusOK, formFromCampaign(c), nil)
}

func (s *Server) updateCampaign(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	f, in, errs := readCampaignForm(r)
	f.ID = r.PathValue("id")
	if len(errs) > 0 {
		s.renderCampaignForm(w, r, http.StatusUnprocessableEntity, f, errs)
		return
	}
	_, err := s.opts.Campaigns.Update(r.Context(), sess.WorkspaceID, f.ID, in)
	var verr *campaign.ValidationError
	var serr *campaign.StateError
	switch {
	case errors.As(err, &verr):
		s.renderCampaignForm(w, r, http.StatusUnprocessableEntity, f, verr.Errors)
		return
	case errors.As(err, &serr):
		s.renderCampaignForm(w, r, http.StatusConflict, f, []campaign.FieldError{{Field: "campaign", Message: serr.Message}})
		return
	case errors.Is(err, campaign.ErrNotFound):
		http.NotFound(w, r)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "/campaigns/"+f.ID, "Campaign saved.")
}
