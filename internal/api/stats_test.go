package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestCampaignStatsJSON: the stats route answers the contract's names,
// one accepted invitation counts as sent 1, accepted 1, rate 1; a bad
// days is a 422 naming it (docs/surfaces.md#campaign-stats).
func TestCampaignStatsJSON(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		p := newPacedSender(t, d)
		at := p.now.Add(-time.Hour)
		p.exec(t, `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state,
			claimed_at, dispatched_at, finished_at) VALUES ('snd_stats', $1, $2, $3, $4, $5, 's1', 'invite', 'confirmed', $6, $6, $6)`,
			p.ws, p.acc, p.camp, p.enrollment, p.pros, at)
		p.exec(t, `UPDATE enrollments SET accepted_at = $2 WHERE id = $1`, p.enrollment, p.now.Add(-time.Minute))
		var st struct {
			Steps []struct {
				StepID         string   `json:"step_id"`
				Action         string   `json:"action"`
				Sent           int      `json:"sent"`
				Accepted       int      `json:"accepted"`
				Replied        int      `json:"replied"`
				AcceptanceRate *float64 `json:"acceptance_rate"`
				ReplyRate      *float64 `json:"reply_rate"`
			} `json:"steps"`
			Senders []map[string]any `json:"senders"`
			Days    []map[string]any `json:"days"`
		}
		p.get(t, "/api/v1/campaigns/"+p.camp+"/stats?days=7", &st)
		if len(st.Steps) != 1 {
			t.Fatalf("steps: %+v", st.Steps)
		}
		s := st.Steps[0]
		if s.StepID != "s1" || s.Action != "invite" || s.Sent != 1 || s.Accepted != 1 || s.Replied != 0 ||
			s.AcceptanceRate == nil || *s.AcceptanceRate != 1 || s.ReplyRate == nil || *s.ReplyRate != 0 {
			t.Fatalf("step: %+v", s)
		}
		if len(st.Senders) != 1 || st.Senders[0]["account_id"] != p.acc || st.Senders[0]["sent"] != 1.0 || st.Senders[0]["accepted"] != 1.0 {
			t.Fatalf("senders: %+v", st.Senders)
		}
		if len(st.Days) != 7 || st.Days[6]["date"] != p.now.Format(time.DateOnly) || st.Days[6]["invite"] != 1.0 {
			t.Fatalf("days: %+v", st.Days)
		}
		for _, k := range []string{"date", "invite", "message", "inmail", "view_profile", "withdraw"} {
			if _, ok := st.Days[0][k]; !ok {
				t.Fatalf("day without %s: %+v", k, st.Days[0])
			}
		}
		for _, bad := range []string{"0", "91", "x"} {
			req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/api/v1/campaigns/"+p.camp+"/stats?days="+bad, nil)
			req.Header.Set("Authorization", "Bearer "+p.secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("days=%s: %d", bad, resp.StatusCode)
			}
		}
	})
}
