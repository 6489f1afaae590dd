package send_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/send"
)

// TestCampaignDailySendsCountsPerUTCDay: the chart's sends per day count a
// campaign's sends of every action in a counted state by the UTC day they
// were claimed — the first instant of a day in that day, failed and
// cancelled ones and another campaign's not at all.
func TestCampaignDailySendsCountsPerUTCDay(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newCountsWorld(t, d)
		first := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		want := make([]int, 5)
		n := 0
		add := func(ens int, step, action, state string, at time.Time, counted bool) {
			t.Helper()
			e := w.ens[ens]
			n++
			var dispatched, finished, errText, chat any
			if state != "intent" && state != "cancelled" {
				dispatched = at
			}
			if state == "confirmed" || state == "failed" || state == "cancelled" {
				finished = at
			}
			if state == "failed" || state == "cancelled" {
				errText = "generated"
			}
			if state == "confirmed" && (action == "message" || action == "inmail") {
				chat = "chat"
			}
			w.exec(`INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state,
				claimed_at, dispatched_at, finished_at, error, chat_id) SELECT $1, workspace_id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
				FROM campaigns WHERE id = $3`, fmt.Sprintf("snd_daily_%d", n), e.account, e.campaign, e.id, e.prospect, step, action, state,
				at, dispatched, finished, errText, chat)
			if day := int(at.Sub(first) / (24 * time.Hour)); counted && e.campaign == w.cps[0].ID && at.After(first.Add(-time.Nanosecond)) && day < len(want) {
				want[day]++
			}
		}
		add(0, "view", "view_profile", "confirmed", first, true)
		add(0, "inv", "invite", "confirmed", first.Add(24*time.Hour-time.Nanosecond), true)
		add(0, "msg", "message", "intent", first.Add(24*time.Hour), true)
		add(0, "mail", "inmail", "unknown", first.Add(3*24*time.Hour+time.Hour), true)
		add(0, "inv", "withdraw", "confirmed", first.Add(4*24*time.Hour+23*time.Hour), true)
		add(1, "inv", "invite", "failed", first.Add(2*24*time.Hour), false)
		add(1, "msg", "message", "cancelled", first.Add(2*24*time.Hour), false)
		add(2, "inv", "invite", "dispatched", first.Add(-time.Nanosecond), true)
		add(2, "msg", "message", "confirmed", first.Add(5*24*time.Hour), true)
		add(8, "inv", "invite", "confirmed", first.Add(2*24*time.Hour), true) // the other campaign
		got, err := send.CampaignDailySends(w.ctx, d.SQL, w.cps[0].ID, first, len(want))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) || slices.Equal(want, make([]int, len(want))) {
			t.Fatalf("sends per day %v, want %v", got, want)
		}
	})
}
