package send_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/diagnose"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// enrollmentTries reads each enrollment's state and used tries.
func enrollmentTries(t *testing.T, s *sim, campaignID string) (states map[string]int, tries int) {
	t.Helper()
	rows, err := s.d.SQL.QueryContext(s.ctx, `SELECT state, failures FROM enrollments WHERE campaign_id = $1`, campaignID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	states = map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			t.Fatal(err)
		}
		states[st]++
		tries += n
	}
	return states, tries
}

// A provider 5xx defers the prospect: it uses none of its tries, does not
// pause the campaign for its failure rate, and the invitation goes out
// once the provider answers again.
func TestPatternP10ProviderErrorUsesNoTry(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 10)
		sa := s.addAccount(t, "Inc", account.TierPremium, "UTC", 5)
		camp := s.addCampaign(t, "p10a", []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}, 3, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		// Every prospect meets the outage more than the three tries it has.
		s.fake.InjectFault(fake.Fault{Action: fake.ActionInvite, Status: http.StatusServiceUnavailable, Times: 12})
		s.runFor(t, 8*time.Hour)
		states, tries := enrollmentTries(t, s, camp.ID)
		if tries != 0 || states["failed"] != 0 {
			t.Fatalf("a 503 used tries: states %v, tries %d", states, tries)
		}
		got, _ := s.camps.Get(s.ctx, s.d.SQL, "", camp.ID)
		if got.Status != campaign.StatusRunning && got.Status != campaign.StatusCompleted {
			t.Fatalf("campaign %s (%s) after provider 5xx", got.Status, got.PausedReason)
		}
		if n := len(s.fake.Invitations(sa.provider)); n != 3 {
			t.Fatalf("%d invitations sent once the provider answered again, want 3", n)
		}
	})
}

// During a 404 burst with the burst guard open, the send path calls
// nothing for the account, no prospect uses a try, and the diagnosis says
// why and until when; once the guard closes, sending resumes.
func TestPatternP10BurstGuardOpenCallsNothing(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 11)
		sa := s.addAccount(t, "Burst", account.TierPremium, "UTC", 5)
		camp := s.addCampaign(t, "p10b", []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}, 3, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		now := s.clock.Now()
		reopen := now.Add(time.Hour)
		s.fake.SetBurst404(true)
		if _, err := d.SQL.ExecContext(s.ctx, `UPDATE health_guard SET state = 'open', trips = trips + 1, opened_at = $1, reopen_at = $2 WHERE id = 1`,
			now, reopen); err != nil {
			t.Fatal(err)
		}
		s.runFor(t, 30*time.Minute)
		if n := countCalls(s.fake, sa.provider, fake.ActionInvite, simStart); n != 0 {
			t.Fatalf("%d invitation calls while the burst guard was open", n)
		}
		if _, tries := enrollmentTries(t, s, camp.ID); tries != 0 {
			t.Fatalf("the burst used %d tries", tries)
		}
		r, err := diagnose.Campaign(s.ctx, diagnose.Deps{DB: d, Accounts: s.accounts, Campaigns: s.camps}, s.ws.ID, camp.ID, s.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, f := range r.Findings {
			if f.Code == policy.CodeIncident {
				found = true
				if f.ClearsAt == nil || !f.ClearsAt.Equal(reopen) {
					t.Fatalf("incident finding clears at %v, want %v", f.ClearsAt, reopen)
				}
			}
		}
		if !found || r.Sending {
			t.Fatalf("the diagnosis does not explain the incident: %+v", r)
		}
		// The guard closes and the provider recovers: invitations go out.
		s.fake.SetBurst404(false)
		if _, err := d.SQL.ExecContext(s.ctx, `UPDATE health_guard SET state = 'closed', opened_at = NULL, reopen_at = NULL WHERE id = 1`); err != nil {
			t.Fatal(err)
		}
		s.clock.Set(reopen)
		s.runFor(t, 2*time.Hour)
		if n := len(s.fake.Invitations(sa.provider)); n != 3 {
			t.Fatalf("%d invitations after the incident, want 3", n)
		}
		if states, tries := enrollmentTries(t, s, camp.ID); tries != 0 || states["failed"] != 0 {
			t.Fatalf("after the incident: states %v, tries %d", states, tries)
		}
	})
}

// A 404 answered to a send (guard closed) is an incident too: no try.
func TestPatternP10NotFoundUsesNoTry(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 12)
		sa := s.addAccount(t, "NF", account.TierPremium, "UTC", 5)
		camp := s.addCampaign(t, "p10c", []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}, 2, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.fake.InjectFault(fake.Fault{Action: fake.ActionInvite, Status: http.StatusNotFound, Times: 8})
		s.runFor(t, 8*time.Hour)
		if states, tries := enrollmentTries(t, s, camp.ID); tries != 0 || states["failed"] != 0 {
			t.Fatalf("404s used tries: states %v, tries %d", states, tries)
		}
	})
}

// Errors about the recipient still fail the prospect.
func TestPatternP10RecipientErrorsFailTheProspect(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 13)
		sa := s.addAccount(t, "Rcpt", account.TierPremium, "UTC", 5)
		camp := s.addCampaign(t, "p10d", []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}, 3, []string{sa.acc.ID})
		for i, typ := range []string{"invalid_recipient", "user_unreachable", "cannot_invite_attendee"} {
			s.fake.InjectFault(fake.Fault{Action: fake.ActionInvite, Recipient: "ACoAAp10d0000" + string(rune('0'+i)),
				Status: http.StatusUnprocessableEntity, Type: typ})
		}
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 4*time.Hour)
		if states, _ := enrollmentTries(t, s, camp.ID); states["failed"] != 3 {
			t.Fatalf("recipient errors: states %v, want 3 failed", states)
		}
	})
}
