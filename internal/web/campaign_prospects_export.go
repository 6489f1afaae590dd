package web

// The prospect list as CSV, with the page's filters
// (docs/surfaces.md#prospect-export).

import (
	"encoding/csv"
	"errors"
	"net/http"
	"time"

	"github.com/keel-outreach/keel/internal/campaign"
)

func (s *Server) exportProspects(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	f := readProspectFilter(r.URL.Query())
	f.After = ""
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	var cw *csv.Writer
	started := false
	start := func() {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="campaign-`+c.ID+`-prospects.csv"`)
		cw = csv.NewWriter(w)
		_ = cw.Write([]string{"enrollment_id", "prospect_id", "first_name", "last_name", "linkedin_url", "provider_id", "sender_account_id",
			"state", "step_id", "next_action_at", "hold", "ended_reason", "last_error", "accepted_at", "replied_at"})
		started = true
	}
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	err := s.opts.Campaigns.EachProspect(r.Context(), s.opts.DB.SQL, sess.WorkspaceID, c.ID, f.store(), func(p campaign.ListedProspect) error {
		if !started {
			start()
		}
		hold := ""
		if p.ParkedBy != "" {
			hold = holdInWords(p.ParkedBy)
		}
		return cw.Write(csvSafe(p.ID, p.ProspectID, p.FirstName, p.LastName, p.LinkedInURL, p.ProviderID, p.AccountID,
			string(p.State), p.StepID, ts(p.NextActionAt), hold, p.EndedReason, p.LastError, ts(p.AcceptedAt), ts(p.RepliedAt)))
	})
	if errors.Is(err, campaign.ErrNotFound) && !started {
		http.NotFound(w, r)
		return
	}
	if err != nil && !started {
		s.fail(w, r, err)
		return
	}
	if !started {
		start()
	}
	cw.Flush()
	if err != nil {
		s.opts.Logger.Error("exporting prospects", "campaign", c.ID, "error", err)
	}
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: a value
// starting with =, +, - or @ gets a leading apostrophe.
func csvSafe(vals ...string) []string {
	for i, v := range vals {
		if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@') {
			vals[i] = "'" + v
		}
	}
	return vals
}
