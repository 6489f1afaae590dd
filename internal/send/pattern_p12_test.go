package send_test

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// An accepted prospect's message goes out at the next spacing gap, not
// behind the spread of the day's invitations.
func TestPatternP12FollowUpNotBehindInvitationSpread(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 20)
		sa := s.addAccount(t, "Spread", account.TierPremium, "UTC", 5)
		camp := s.addCampaign(t, "p12a", []campaign.Step{{ID: "i1", Type: campaign.StepInvite},
			{ID: "c1", Type: campaign.StepIfAccepted, Within: "168h", Then: "m1", Else: campaign.End},
			{ID: "m1", Type: campaign.StepMessage, Text: "Thanks {{first_name}}"}}, 20, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 10*time.Minute)
		invs := s.fake.Invitations(sa.provider)
		if len(invs) != 1 {
			t.Fatalf("%d invitations in the first 10 minutes, want 1 (the rest spread over the window)", len(invs))
		}
		if err := s.fake.Accept(invs[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := s.d.InTx(s.ctx, func(tx *sql.Tx) error {
			_, err := s.engine.StampAccepted(s.ctx, tx, send.AcceptSignal{WorkspaceID: s.ws.ID, AccountID: sa.acc.ID,
				ProviderID: invs[0].ProviderID, Source: "test"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		accepted := s.clock.Now()
		// The diagnosis agrees: sending, the next action (the message) no
		// later than the spacing allows, while invitations wait for their spread.
		r := s.diagnosis(t, camp.ID)
		if !r.Sending || r.NextActionAt == nil || r.NextActionAt.After(accepted.Add(3*time.Minute)) {
			t.Fatalf("the follow-up's time in the diagnosis: %+v", r)
		}
		if !strings.Contains(r.Headline, "next message") || mustFinding(t, r, "pacing").ClearsAt.Before(accepted.Add(10*time.Minute)) {
			t.Fatalf("headline %q does not name the follow-up", r.Headline)
		}
		// The spacing gap is at most 3 minutes; one more pass interval.
		s.runFor(t, 4*time.Minute)
		if n := countCalls(s.fake, sa.provider, fake.ActionStartChat, accepted); n != 1 {
			t.Fatalf("%d follow-up messages within the spacing gap after the accept, want 1", n)
		}
	})
}

// A 20 s condition timeout is evaluated within one scheduler interval of
// its due time, even while the account's pacing holds its actions.
func TestPatternP12ConditionTimeoutOnTime(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 21)
		sa := s.addAccount(t, "Timer", account.TierPremium, "UTC", 5)
		camp := s.addCampaign(t, "p12b", []campaign.Step{{ID: "v1", Type: campaign.StepViewProfile},
			{ID: "c1", Type: campaign.StepIfReplied, Within: "20s", Then: campaign.End, Else: campaign.End}}, 1, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		if _, err := s.engine.RunPass(s.ctx); err != nil {
			t.Fatal(err)
		}
		if n := countCalls(s.fake, sa.provider, fake.ActionViewProfile, simStart); n != 1 {
			t.Fatalf("%d profile views, want 1", n)
		}
		// The account's pacing holds it for an hour.
		if _, err := d.SQL.ExecContext(s.ctx, `UPDATE account_pacing SET next_allowed_at = $2 WHERE account_id = $1`,
			sa.acc.ID, s.clock.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		due := s.clock.Now().Add(20 * time.Second)
		const interval = 10 * time.Second
		for s.clock.Now().Before(due.Add(interval)) {
			s.clock.Advance(interval)
			if _, err := s.engine.RunPass(s.ctx); err != nil {
				t.Fatal(err)
			}
		}
		if states, _ := enrollmentTries(t, s, camp.ID); states["active"] != 0 {
			t.Fatalf("the 20 s condition timeout was not evaluated within one interval of its due time: %v", states)
		}
	})
}
