package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/send"
)

func (s *Server) registerStatsRoutes() {
	s.handle("GET /api/v1/campaigns/{id}/stats", s.withCampaigns(s.campaignStats))
}

// campaignStats answers a campaign's results in people terms: per step,
// per sender, per UTC day (docs/surfaces.md#campaign-stats). days (1-90,
// default 30) is how many days the day series covers, ending today; any
// other value is a 422 naming days.
func (s *Server) campaignStats(w http.ResponseWriter, r *http.Request, p principal) {
	days := send.DefaultStatsDays
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > send.MaxStatsDays {
			msg := "must be a whole number from 1 to " + strconv.Itoa(send.MaxStatsDays)
			invalid(w, "invalid stats request", "days: "+msg, []fieldError{{Field: "days", Message: msg}})
			return
		}
		days = n
	}
	c, err := s.opts.Campaigns.Get(r.Context(), s.opts.DB.SQL, p.WorkspaceID, r.PathValue("id"))
	if errors.Is(err, campaign.ErrNotFound) {
		Problem(w, http.StatusNotFound, "not found", "no such campaign")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	st, err := send.CampaignStats(r.Context(), s.opts.DB.SQL, c.ID, s.opts.Clock.Now(), days)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	st.Arrange(c.Steps)
	writeJSON(w, http.StatusOK, st)
}

// campaignStatsSchema documents the stats JSON (docs/surfaces.md#campaign-stats).
var campaignStatsSchema = map[string]any{
	"type":     "object",
	"required": []any{"steps", "senders", "days"},
	"properties": map[string]any{
		"steps": map[string]any{"type": "array", "description": "The campaign's action steps in order (removed steps with sends after them).",
			"items": map[string]any{"type": "object",
				"required": []any{"step_id", "action", "sent", "accepted", "replied", "acceptance_rate", "reply_rate"},
				"properties": map[string]any{
					"step_id": str, "action": str,
					"sent":     map[string]any{"type": "integer", "description": "Confirmed sends of the step (withdrawals are not sends of a step)."},
					"accepted": map[string]any{"type": "integer", "description": "Prospects whose invitation of this step was accepted (0 for other actions)."},
					"replied":  map[string]any{"type": "integer", "description": "Prospects whose first reply came after this step's send."},
					"acceptance_rate": map[string]any{"type": []any{"number", "null"},
						"description": "accepted/sent; null when sent is 0 or the step is not an invitation."},
					"reply_rate": map[string]any{"type": []any{"number", "null"}, "description": "replied/sent; null when sent is 0."},
				}}},
		"senders": map[string]any{"type": "array", "items": map[string]any{"type": "object",
			"required":   []any{"account_id", "sent", "accepted", "replied"},
			"properties": map[string]any{"account_id": str, "sent": num, "accepted": num, "replied": num}}},
		"days": map[string]any{"type": "array", "description": "One entry per UTC day, oldest first, ending today; confirmed sends by the day they were claimed.",
			"items": map[string]any{"type": "object",
				"required": []any{"date", "invite", "message", "inmail", "view_profile", "withdraw"},
				"properties": map[string]any{"date": map[string]any{"type": "string", "format": "date"},
					"invite": num, "message": num, "inmail": num, "view_profile": num, "withdraw": num}}},
	},
}

// statsSummary is the stats route's OpenAPI summary.
const statsSummary = "Results in people terms: per step and per sender sent, accepted, replied (rates null when nothing was sent); confirmed sends per UTC day and action (days: 1-90, default 30)"
