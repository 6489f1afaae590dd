package web

// Prospect CSV import from the campaign page.

import (
	"errors"
	"net/http"

	"github.com/keel-outreach/keel/internal/campaign"
)

// maxUploadBytes bounds a CSV upload: the larger of the prospect import's
// and the do-not-contact list's limits (each parser enforces its own).
const maxUploadBytes = max(campaign.MaxImportBytes, campaign.MaxDNCBytes)

func (s *Server) importProspects(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	file, _, err := r.FormFile("csv")
	if err != nil {
		s.showCampaign(w, r, http.StatusUnprocessableEntity, nil, "Choose a CSV file to upload.")
		return
	}
	defer file.Close()
	rows, err := campaign.ParseCSV(file)
	if err != nil {
		s.showCampaign(w, r, http.StatusUnprocessableEntity, nil, err.Error())
		return
	}
	res, err := s.opts.Campaigns.Import(r.Context(), r.PathValue("id"), sess.WorkspaceID, rows)
	var serr *campaign.StateError
	switch {
	case errors.Is(err, campaign.ErrNotFound):
		http.NotFound(w, r)
		return
	case errors.As(err, &serr):
		s.showCampaign(w, r, http.StatusConflict, nil, serr.Message)
		return
	case errors.Is(err, campaign.ErrTooLarge):
		s.showCampaign(w, r, http.StatusRequestEntityTooLarge, nil, err.Error())
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	s.showCampaign(w, r, http.StatusOK, &res, "")
}
