package send_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/diagnose"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

func findingOf(t *testing.T, s *sim, campaignID, code string) *diagnose.Finding {
	t.Helper()
	rep, err := diagnose.Campaign(s.ctx, diagnose.Deps{DB: s.d, Accounts: s.accounts, Campaigns: s.camps}, s.ws.ID, campaignID, s.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var out *diagnose.Finding
	for i, f := range rep.Findings {
		if f.Code == code {
			if out != nil {
				t.Fatalf("finding %s given twice: %+v", code, rep.Findings)
			}
			out = &rep.Findings[i]
		}
	}
	return out
}

func TestPatternP8TopUpLiftsTheCreditsBreakerWithinOnePass(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 9)
		sa := s.addAccountWith(t, "Acct NS", account.TierPremium, "UTC", 5, nil)
		c := s.addCampaign(t, "p8", []campaign.Step{{ID: "m1", Type: campaign.StepInMail, Subject: "Hi {{first_name}}", Text: "Hello"}}, 3, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 30*time.Minute)
		if n := countCalls(s.fake, sa.provider, fake.ActionInMail, simStart); n != 1 {
			t.Fatalf("InMail calls: %d, want the one that met insufficient_credits", n)
		}
		f := findingOf(t, s, c.ID, policy.CodeCredits)
		monthStart := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		if f == nil || f.ClearsAt == nil || !f.ClearsAt.Equal(monthStart) {
			t.Fatalf("before the top-up the diagnosis must name the credits breaker clearing on the 1st: %+v", f)
		}

		if err := s.fake.SetInMailCredits(sa.provider, 10); err != nil {
			t.Fatal(err)
		}
		top, err := send.TopUpInMail(s.ctx, s.d, s.camps, send.TopUp{AccountID: sa.acc.ID, By: "ops@example.com",
			Source: send.TopUpManual, At: s.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if !top.Held || top.Reevaluated == 0 {
			t.Fatalf("top-up: %+v, want a held breaker and parked prospects made due", top)
		}
		if f := findingOf(t, s, c.ID, policy.CodeCredits); f != nil {
			t.Fatalf("after the top-up the diagnosis still says %+v", f)
		}
		last, err := send.LastTopUp(s.ctx, s.d.SQL, sa.acc.ID)
		if err != nil || last == nil || last.By != "ops@example.com" || last.Source != send.TopUpManual || !last.At.Equal(s.clock.Now()) {
			t.Fatalf("recorded top-up: %+v %v", last, err)
		}
		// The next pass at the time the diagnosis gives (the pacing gap of
		// the failed try may still run) sends.
		rep, err := diagnose.Campaign(s.ctx, diagnose.Deps{DB: s.d, Accounts: s.accounts, Campaigns: s.camps}, s.ws.ID, c.ID, s.clock.Now())
		if err != nil || rep.NextActionAt == nil {
			t.Fatalf("after the top-up the campaign must have a next action: %+v %v", rep, err)
		}
		if rep.NextActionAt.After(s.clock.Now()) {
			s.clock.Set(rep.NextActionAt.Add(time.Second))
		}
		mark := s.clock.Now()
		if _, err := s.engine.RunPass(s.ctx); err != nil {
			t.Fatal(err)
		}
		if n := countCalls(s.fake, sa.provider, fake.ActionInMail, mark); n != 1 {
			t.Fatalf("one pass after the top-up sent %d InMails, want 1", n)
		}
		if _, err := s.d.SQL.ExecContext(s.ctx, `DELETE FROM inmail_top_ups`); err == nil {
			t.Fatal("a recorded top-up was deleted")
		}
	})
}

func TestPatternP8BalanceCheckClearsTheBreaker(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 10)
		sa := s.addAccountWith(t, "Acct NS", account.TierPremium, "UTC", 5, nil)
		s.addCampaign(t, "p8b", []campaign.Step{{ID: "m1", Type: campaign.StepInMail, Subject: "Hi", Text: "Hello"}}, 2, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 10*time.Minute)
		check := func() int {
			t.Helper()
			n, err := s.engine.CheckInMailBalances(s.ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := check(); n != 0 {
			t.Fatalf("a check with no balance cleared %d breakers", n)
		}
		if err := s.fake.SetInMailCredits(sa.provider, 4); err != nil {
			t.Fatal(err)
		}
		if n := check(); n != 1 {
			t.Fatalf("a positive balance cleared %d breakers, want 1", n)
		}
		last, err := send.LastTopUp(s.ctx, s.d.SQL, sa.acc.ID)
		if err != nil || last == nil || last.Source != send.TopUpBalanceCheck || last.Balance != 4 {
			t.Fatalf("recorded balance check: %+v %v", last, err)
		}
		if n := check(); n != 0 {
			t.Fatalf("a second check cleared %d more", n)
		}
	})
}

func TestPatternP8FreeSenders(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 11)
		free := s.addAccountWith(t, "Acct FR", account.TierFree, "UTC", 5, nil)
		paid := s.addAccount(t, "Acct PD", account.TierPremium, "UTC", 5)
		steps := []campaign.Step{{ID: "m1", Type: campaign.StepInMail, Subject: "Hi", Text: "Hello"}}

		name := "free only"
		c, err := s.camps.Create(s.ctx, s.ws.ID, campaign.Input{Name: &name, AccountIDs: []string{free.acc.ID}, Steps: steps})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.camps.Import(s.ctx, c.ID, s.ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAfree1"}}); err != nil {
			t.Fatal(err)
		}
		_, err = s.camps.Start(s.ctx, s.ws.ID, c.ID)
		var se *campaign.StateError
		if !errors.As(err, &se) || !strings.Contains(se.Message, "Acct FR") || !strings.Contains(se.Message, "Free") {
			t.Fatalf("starting an InMail campaign on a Free-only sender: %v, want a StateError naming Acct FR", err)
		}

		mixed := s.addCampaign(t, "mixed", steps, 4, []string{free.acc.ID, paid.acc.ID})
		f := findingOf(t, s, mixed.ID, policy.CodeFreeInMail)
		want := "Free accounts cannot send InMails; InMail steps go through the campaign's other senders."
		if f == nil || f.Message != want {
			t.Fatalf("mixed campaign's Free-InMail finding: %+v, want once %q", f, want)
		}
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 4*time.Hour)
		if n := countCalls(s.fake, free.provider, fake.ActionInMail, simStart); n != 0 {
			t.Fatalf("the Free sender sent %d InMails", n)
		}
		if n := countCalls(s.fake, paid.provider, fake.ActionInMail, simStart); n != 4 {
			t.Fatalf("the paid sender sent %d InMails, want all 4 (its own and the Free sender's)", n)
		}
	})
}
