package web

// The edit-campaign page and its submit. A running campaign takes the
// changes that are safe live; anything else is refused with the sentence
// campaign.LiveEditProblem writes, and the page offers to pause
// (docs/campaigns.md#editing-a-running-campaign).

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
	f := formFromCampaign(c)
	f.Preview = r.URL.Query().Get("preview")
	s.renderCampaignForm(w, r, http.StatusOK, f, nil)
}

func (s *Server) updateCampaign(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	f, in, errs, op := readCampaignForm(r)
	f.ID = r.PathValue("id")
	if _, err := s.opts.Campaigns.Get(r.Context(), s.opts.DB.SQL, sess.WorkspaceID, f.ID); errors.Is(err, campaign.ErrNotFound) {
		http.NotFound(w, r)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	if builderOp(&f, op) {
		s.renderCampaignForm(w, r, http.StatusOK, f, nil)
		return
	}
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
