package send_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// TestOpeningTheWindowSendsOnTheNextPass: a prospect parked on a Sunday by
// the closed window (until Monday 09:00) is invited on the very next pass
// once the window is opened to every day, while a prospect sitting in a
// wait step keeps its time (docs/sending.md#re-evaluation).
func TestOpeningTheWindowSendsOnTheNextPass(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 7)
		sa := s.addAccount(t, "Grace", account.TierPremium, "UTC", 5)
		type row struct {
			step     string
			next     time.Time
			parkedBy sql.NullString
		}
		read := func(campaignID string) row {
			t.Helper()
			var r row
			var next sql.NullTime
			if err := d.SQL.QueryRowContext(s.ctx, `SELECT step_id, next_action_at, parked_by FROM enrollments WHERE campaign_id = $1`,
				campaignID).Scan(&r.step, &next, &r.parkedBy); err != nil {
				t.Fatal(err)
			}
			r.next = next.Time.UTC()
			return r
		}

		// Friday 6 March, inside the window: a profile view, then a wait
		// of four days.
		s.clock.Set(time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC))
		followUp := s.addCampaign(t, "followup", []campaign.Step{{ID: "v1", Type: campaign.StepViewProfile},
			{ID: "w1", Type: campaign.StepWait, Duration: "96h"}, {ID: "i2", Type: campaign.StepInvite}}, 1, []string{sa.acc.ID})
		s.runFor(t, 10*time.Minute)
		waiting := read(followUp.ID)
		if waiting.step != "w1" || !waiting.next.After(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)) || waiting.parkedBy.Valid {
			t.Fatalf("the follow-up prospect should wait until Tuesday, unparked: %+v", waiting)
		}

		// Sunday 8 March: the window (Monday to Friday) is closed.
		sunday := time.Date(2026, 3, 8, 11, 0, 0, 0, time.UTC)
		s.clock.Set(sunday)
		invites := s.addCampaign(t, "invites", []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}, 1, []string{sa.acc.ID})
		s.runFor(t, 2*time.Minute)
		parked := read(invites.ID)
		if monday := time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC); !parked.next.Equal(monday) || parked.parkedBy.String != policy.CodeWindow {
			t.Fatalf("the invitation should be parked by the window until %v: %+v", monday, parked)
		}
		if n := countCalls(s.fake, sa.provider, fake.ActionInvite, sunday); n != 0 {
			t.Fatalf("%d invitations sent outside the window", n)
		}

		every := account.WindowSpec{Days: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, Start: "00:00", End: "24:00"}
		if _, err := s.accounts.UpdateSettings(s.ctx, s.ws.ID, sa.acc.ID, account.SettingsPatch{Window: &every, Actor: "test"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.engine.RunPass(s.ctx); err != nil {
			t.Fatal(err)
		}
		if n := countCalls(s.fake, sa.provider, fake.ActionInvite, sunday); n != 1 {
			t.Fatalf("the pass after opening the window sent %d invitations, want 1", n)
		}
		if got := read(followUp.ID); got.step != "w1" || !got.next.Equal(waiting.next) {
			t.Fatalf("a settings change moved a wait: %+v, was %+v", got, waiting)
		}
	})
}
