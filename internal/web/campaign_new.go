package web

// The new-campaign page and its submit.

import (
	"errors"
	"net/http"

	"github.com/keel-outreach/keel/internal/campaign"
)

func (s *Server) newCampaignPage(w http.ResponseWriter, r *http.Request) {
	f := formFromCampaign(campaign.Campaign{DailyCaps: campaign.DefaultDailyCaps, StopOnReply: true, LateAcceptPolicy: campaign.LateAcceptFollowUp,
		Steps: exampleSteps})
	f.Preview = r.URL.Query().Get("preview")
	s.renderCampaignForm(w, r, http.StatusOK, f, nil)
}

func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	f, in, errs, op := readCampaignForm(r)
	if builderOp(&f, op) {
		s.renderCampaignForm(w, r, http.StatusOK, f, nil)
		return
	}
	if len(errs) > 0 {
		s.renderCampaignForm(w, r, http.StatusUnprocessableEntity, f, errs)
		return
	}
	c, err := s.opts.Campaigns.Create(r.Context(), sess.WorkspaceID, in)
	var verr *campaign.ValidationError
	if errors.As(err, &verr) {
		s.renderCampaignForm(w, r, http.StatusUnprocessableEntity, f, verr.Errors)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "/campaigns/"+c.ID, "Campaign created as a draft. Import prospects, then start it.")
}

// builderOp applies a builder button (add, remove, move, refresh the
// preview) to the form, reporting whether the submit was one: the form is
// then shown again with the change and nothing is saved.
func builderOp(f *campaignForm, op string) bool {
	if op == "" || op == "save" {
		return false
	}
	if op != "preview" && !applyStepOp(f, op) {
		return false
	}
	steps, _ := toSteps(f.Steps)
	f.JSON, f.JSONMode = stepsJSON(steps), false
	return true
}
