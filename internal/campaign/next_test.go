package campaign_test

import (
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestNextActions: an account's next action is the earliest due time of
// its active prospects in running campaigns, with the step they are due
// at; a paused campaign's prospects and accounts with nothing scheduled
// have none (docs/surfaces.md#accounts-overview).
func TestNextActions(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		running := f.create(t, f.a)
		f.importCSV(t, running, "linkedin_url,first_name\nhttps://www.linkedin.com/in/na-1,Ada\nhttps://www.linkedin.com/in/na-2,Grace\n")
		if _, err := f.campaigns.Start(f.ctx, f.ws.ID, running.ID); err != nil {
			t.Fatal(err)
		}
		paused := f.create(t, f.b)
		f.importCSV(t, paused, "linkedin_url,first_name\nhttps://www.linkedin.com/in/na-3,Alan\n")
		if _, err := f.campaigns.Start(f.ctx, f.ws.ID, paused.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.campaigns.Pause(f.ctx, f.ws.ID, paused.ID); err != nil {
			t.Fatal(err)
		}
		// Due times set by hand: one prospect at the invitation in two
		// hours, the other at the message in one hour.
		ens := f.enrollments(t, running)
		if len(ens) != 2 {
			t.Fatalf("enrollments: %+v", ens)
		}
		soon := start.Add(time.Hour)
		for i, e := range ens {
			step, at := "s1", start.Add(2*time.Hour)
			if i == 1 {
				step, at = "s3", soon
			}
			if _, err := d.SQL.ExecContext(f.ctx, `UPDATE enrollments SET step_id = $2, next_action_at = $3, state = 'active' WHERE id = $1`,
				e.ID, step, at); err != nil {
				t.Fatal(err)
			}
		}
		got, err := f.campaigns.NextActions(f.ctx, d.SQL, []string{f.a.ID, f.b.ID, f.foreign.ID})
		if err != nil {
			t.Fatal(err)
		}
		n, ok := got[f.a.ID]
		if !ok || !n.At.Equal(soon) || n.StepID != "s3" || n.StepType != campaign.StepMessage || n.CampaignID != running.ID {
			t.Fatalf("next action of the running sender: %+v %v", n, ok)
		}
		if _, ok := got[f.b.ID]; ok {
			t.Fatalf("a paused campaign's sender has a next action: %+v", got[f.b.ID])
		}
		if _, ok := got[f.foreign.ID]; ok || len(got) != 1 {
			t.Fatalf("next actions: %+v", got)
		}
		if got, err := f.campaigns.NextActions(f.ctx, d.SQL, nil); err != nil || len(got) != 0 {
			t.Fatalf("no ids: %v %v", got, err)
		}
	})
}
