package api

import (
	"errors"
	"net/http"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/forecast"
)

func (s *Server) registerForecastRoutes() {
	s.handle("GET /api/v1/campaigns/{id}/forecast", s.campaignForecast)
}

// campaignForecast answers "when will this campaign be done, and what
// limits it?" (docs/surfaces.md#forecast). A days value that is not a
// whole number from 1 to 90 is a 422 naming days.
func (s *Server) campaignForecast(w http.ResponseWriter, r *http.Request, p principal) {
	if s.opts.Campaigns == nil {
		Problem(w, http.StatusServiceUnavailable, "unavailable", "campaigns are not configured")
		return
	}
	days, err := forecast.ParseDays(r.URL.Query().Get("days"))
	if err != nil {
		invalid(w, "invalid forecast request", "days: "+err.Error(), []fieldError{{Field: "days", Message: err.Error()}})
		return
	}
	deps := forecast.Deps{DB: s.opts.DB, Accounts: s.opts.Accounts, Campaigns: s.opts.Campaigns, MinSpacing: s.opts.MinSpacing}
	f, err := forecast.Campaign(r.Context(), deps, p.WorkspaceID, r.PathValue("id"), s.opts.Clock.Now(), days)
	if errors.Is(err, campaign.ErrNotFound) {
		Problem(w, http.StatusNotFound, "not found", "no such campaign")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}
