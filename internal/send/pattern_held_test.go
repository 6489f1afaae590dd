package send_test

// The field patterns Keel already made impossible or explained
// (docs/campaigns.md#field-patterns): P1, P2, P5, P6, P9, P11 and P14, each
// driven through the real engine against the fake Unipile server and each
// checked in the diagnosis too (code and when it clears).

import (
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

// diagnosis answers "why isn't it sending?" for a campaign at the sim's now.
func (s *sim) diagnosis(t *testing.T, campaignID string) diagnose.Report {
	t.Helper()
	r, err := diagnose.Campaign(s.ctx, diagnose.Deps{DB: s.d, Accounts: s.accounts, Campaigns: s.camps}, "", campaignID, s.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mustFinding returns the report's finding with a code, failing when absent.
func mustFinding(t *testing.T, r diagnose.Report, code string) diagnose.Finding {
	t.Helper()
	for _, f := range r.Findings {
		if f.Code == code {
			return f
		}
	}
	t.Fatalf("no %s finding in %+v", code, r.Findings)
	return diagnose.Finding{}
}

func sameInstant(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil || !got.Equal(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func limitOf(t *testing.T, s *sim, a account.Account, act policy.Action, period string) send.Limit {
	t.Helper()
	ls, err := send.Limits(s.ctx, s.d.SQL, a, s.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.Action == act && l.Period == period {
			return l
		}
	}
	t.Fatalf("no %s/%s limit", act, period)
	return send.Limit{}
}

// P1: the counter shown is the ledger's count, which is also what reached
// the provider; it cannot drift up, and when the cap is reached the
// diagnosis says so with the time it resets.
func TestPatternP1CountersAreTheLedger(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 101)
		sa := s.addAccount(t, "Counter", account.TierPremium, "UTC", 5)
		camp := s.addCampaign(t, "p1", []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}, 40, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 9*time.Hour) // the whole window of Monday
		calls := countCalls(s.fake, sa.provider, fake.ActionInvite, simStart)
		l := limitOf(t, s, sa.acc, policy.ActionInvite, "day")
		if l.Used != calls || calls != 20 {
			t.Fatalf("shown %d used, the provider got %d invitations, the cap is 20", l.Used, calls)
		}
		// Rows that never reached the provider (cancelled, failed) do not count.
		if _, err := s.d.SQL.ExecContext(s.ctx, `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id,
			step_id, action, state, claimed_at, dispatched_at, finished_at, error)
			SELECT id || '_x', workspace_id, account_id, campaign_id, enrollment_id, prospect_id, 'gone_' || id, action,
			       CASE WHEN id < 'snd_m' THEN 'cancelled' ELSE 'failed' END, claimed_at,
			       CASE WHEN id < 'snd_m' THEN NULL ELSE claimed_at END, claimed_at, 'test'
			  FROM sends WHERE account_id = $1`, sa.acc.ID); err != nil {
			t.Fatal(err)
		}
		if l := limitOf(t, s, sa.acc, policy.ActionInvite, "day"); l.Used != 20 {
			t.Fatalf("cancelled or failed rows counted: %d", l.Used)
		}
		s.clock.Set(simStart.Add(17 * time.Hour))
		r := s.diagnosis(t, camp.ID)
		f := mustFinding(t, r, policy.CodeDailyCap)
		sameInstant(t, "daily cap clears", f.ClearsAt, simStart.Add(24*time.Hour+9*time.Hour))
		if r.Sending {
			t.Fatalf("a sender at its cap is not sending: %+v", r)
		}
	})
}

// P2: every action type's counter moves with the send that succeeded, in
// the same transaction: messages shown on the account equal the campaign's
// confirmed messages and the provider's count.
func TestPatternP2EveryActionIsCounted(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 102)
		sa := s.addAccount(t, "Msgs", account.TierPremium, "UTC", 5)
		camp := s.addCampaign(t, "p2", []campaign.Step{{ID: "v1", Type: campaign.StepViewProfile},
			{ID: "m1", Type: campaign.StepInMail, Subject: "Hi", Text: "Hello {{first_name}}"}}, 6, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 9*time.Hour)
		steps, err := send.CampaignStepStates(s.ctx, s.d.SQL, camp.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			act  policy.Action
			step string
			call string
		}{{policy.ActionViewProfile, "v1", fake.ActionViewProfile}, {policy.ActionInMail, "m1", fake.ActionInMail}} {
			shown := limitOf(t, s, sa.acc, c.act, "day").Used
			calls := countCalls(s.fake, sa.provider, c.call, simStart)
			if shown != 6 || steps[c.step]["confirmed"] != 6 || calls != 6 {
				t.Fatalf("%s: shown %d, confirmed %d, provider %d; want 6 each", c.act, shown, steps[c.step]["confirmed"], calls)
			}
		}
		r := s.diagnosis(t, camp.ID)
		if r.Sending || mustFinding(t, r, "campaign_completed").Severity != diagnose.Info {
			t.Fatalf("every prospect done: %+v", r)
		}
	})
}

// P5: a connected account with reconnect copy cannot exist (the database
// refuses it), and a disconnected sender is explained with no false clear
// time.
func TestPatternP5NoSplitState(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 105)
		sa := s.addAccount(t, "Split", account.TierPremium, "UTC", 5)
		camp := s.addCampaign(t, "p5", []campaign.Step{{ID: "v1", Type: campaign.StepViewProfile}}, 3, []string{sa.acc.ID})
		if _, err := s.d.SQL.ExecContext(s.ctx, `UPDATE linkedin_accounts SET last_error = $2 WHERE id = $1`,
			sa.acc.ID, "Account no longer registered with Unipile — please reconnect"); err == nil {
			t.Fatal("the database stored a connected account with reconnect copy")
		}
		c := account.TerminalCredentials()
		if _, err := s.accounts.Flip(s.ctx, account.FlipRequest{AccountID: sa.acc.ID, To: account.StatusDisconnected, Copy: &c,
			Reason: "CREDENTIALS", Source: account.SourceWebhook}); err != nil {
			t.Fatal(err)
		}
		s.clock.Set(simStart.Add(10 * time.Hour))
		mark := s.clock.Now()
		s.runFor(t, time.Hour)
		if n := countCalls(s.fake, sa.provider, fake.ActionViewProfile, mark); n != 0 {
			t.Fatalf("%d sends through a disconnected account", n)
		}
		r := s.diagnosis(t, camp.ID)
		if r.Sending || r.Findings[0].Code != "campaign_paused_account_disconnected" || r.Findings[0].ClearsAt != nil {
			t.Fatalf("a disconnected sender's campaign: %+v", r)
		}
		ar, err := diagnose.Account(s.ctx, diagnose.Deps{DB: s.d, Accounts: s.accounts, Campaigns: s.camps}, "", sa.acc.ID, s.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if f := mustFinding(t, ar, policy.CodeNotConnected); f.ClearsAt != nil || !strings.Contains(f.Message, "disconnected") {
			t.Fatalf("account finding: %+v", f)
		}
	})
}

// P6: a campaign that paused itself says why, and resumes by itself when
// the cause (a disconnect) goes.
func TestPatternP6PauseReasonAndAutoResume(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 106)
		sa := s.addAccount(t, "Pauser", account.TierPremium, "UTC", 5)
		camp := s.addCampaign(t, "p6", []campaign.Step{{ID: "v1", Type: campaign.StepViewProfile}}, 5, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(10 * time.Hour))
		c := account.TerminalCredentials()
		if _, err := s.accounts.Flip(s.ctx, account.FlipRequest{AccountID: sa.acc.ID, To: account.StatusDisconnected, Copy: &c,
			Reason: "CREDENTIALS", Source: account.SourceWebhook}); err != nil {
			t.Fatal(err)
		}
		r := s.diagnosis(t, camp.ID)
		if f := r.Findings[0]; f.Code != "campaign_paused_account_disconnected" || f.Severity != diagnose.Blocking ||
			!strings.Contains(f.Message, "resumes by itself") || f.ClearsAt != nil {
			t.Fatalf("pause finding: %+v", f)
		}
		if _, err := s.accounts.Flip(s.ctx, account.FlipRequest{AccountID: sa.acc.ID, To: account.StatusConnected,
			Reason: "RECONNECTED", Source: account.SourceHostedAuth}); err != nil {
			t.Fatal(err)
		}
		r = s.diagnosis(t, camp.ID)
		if !r.Sending || r.Findings[0].Code != "sending" {
			t.Fatalf("after the reconnect: %+v", r)
		}
		sameInstant(t, "next action after the reconnect", r.NextActionAt, s.clock.Now())
		mark := s.clock.Now()
		s.runFor(t, time.Minute)
		if countCalls(s.fake, sa.provider, fake.ActionViewProfile, mark) != 1 {
			t.Fatal("the resumed campaign did not send")
		}
	})
}

// P9: a condition cannot be authored without its else-branch, and
// prospects a timeout ends (as authored) are counted in the diagnosis.
func TestPatternP9ConditionsNeedAnElseBranch(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 109)
		sa := s.addAccount(t, "Cond", account.TierPremium, "UTC", 5)
		name := "no else"
		_, err := s.camps.Create(s.ctx, s.ws.ID, campaign.Input{Name: &name, AccountIDs: []string{sa.acc.ID}, Steps: []campaign.Step{
			{ID: "i1", Type: campaign.StepInvite}, {ID: "c1", Type: campaign.StepIfAccepted, Within: "24h", Then: "m1"},
			{ID: "m1", Type: campaign.StepMessage, Text: "Hi"}}})
		if err == nil || !strings.Contains(err.Error(), "else") {
			t.Fatalf("a condition without an else-branch was accepted: %v", err)
		}
		camp := s.addCampaign(t, "p9", []campaign.Step{{ID: "i1", Type: campaign.StepInvite},
			{ID: "c1", Type: campaign.StepIfAccepted, Within: "24h", Then: "m1", Else: campaign.End},
			{ID: "m1", Type: campaign.StepMessage, Text: "Hi"}}, 2, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 26*time.Hour) // nobody accepts
		r := s.diagnosis(t, camp.ID)
		f := mustFinding(t, r, "prospects_ended_by_timeout")
		if f.Severity != diagnose.Info || !strings.HasPrefix(f.Message, "2 prospects ended") {
			t.Fatalf("timeout finding: %+v", f)
		}
	})
}

// P11: a reached campaign share creates no job and no churn: the prospects
// wait, deferred in one step to when the share resets inside the window,
// and the diagnosis names that time.
func TestPatternP11CapsHoldBeforeTheClaim(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 111)
		sa := s.addAccount(t, "Share", account.TierPremium, "UTC", 5)
		name, three := "p11", 3
		c, err := s.camps.Create(s.ctx, s.ws.ID, campaign.Input{Name: &name, AccountIDs: []string{sa.acc.ID},
			Steps: []campaign.Step{{ID: "v1", Type: campaign.StepViewProfile}}, DailyCaps: &campaign.CapsInput{ViewProfile: &three}})
		if err != nil {
			t.Fatal(err)
		}
		rows := make([]campaign.ProspectRow, 10)
		for i := range rows {
			rows[i] = campaign.ProspectRow{Row: i + 1, ProviderID: "ACoAAp11" + string(rune('a'+i)), FirstName: "P"}
			s.fake.AddPerson(fake.Person{ProviderID: rows[i].ProviderID, FirstName: "P"})
		}
		if _, err := s.camps.Import(s.ctx, c.ID, s.ws.ID, rows); err != nil {
			t.Fatal(err)
		}
		if _, err := s.camps.Start(s.ctx, s.ws.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 8*time.Hour)
		var rowsN, cancelled int
		if err := s.d.SQL.QueryRowContext(s.ctx, `SELECT count(*), COALESCE(SUM(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END), 0)
			FROM sends WHERE campaign_id = $1`, c.ID).Scan(&rowsN, &cancelled); err != nil {
			t.Fatal(err)
		}
		if rowsN != 3 || cancelled != 0 {
			t.Fatalf("ledger rows %d (cancelled %d), want exactly the share of 3 and no churn", rowsN, cancelled)
		}
		reset := simStart.Add(24*time.Hour + 9*time.Hour) // Tuesday 09:00, the window after UTC midnight
		var waiting int
		if err := s.d.SQL.QueryRowContext(s.ctx, `SELECT count(*) FROM enrollments WHERE campaign_id = $1 AND state = 'active'
			AND next_action_at = $2`, c.ID, reset).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting != 7 {
			t.Fatalf("%d prospects wait for the share's reset at %v, want 7", waiting, reset)
		}
		r := s.diagnosis(t, c.ID)
		sameInstant(t, "share clears", mustFinding(t, r, policy.CodeCampaignCap).ClearsAt, reset)
	})
}

// P14: a sender in its ramp sends fewer than its configured cap, and the
// diagnosis names the ramp as what binds, with the reset time.
func TestPatternP14RampIsExplained(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 114)
		sa := s.addAccount(t, "Ramping", account.TierPremium, "Europe/Paris", 0)
		camp := s.addCampaign(t, "p14", []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}, 30, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(8 * time.Hour)) // 09:00 in Paris
		s.runFor(t, 8*time.Hour)                 // to 17:00 in Paris, inside the window
		if n := countCalls(s.fake, sa.provider, fake.ActionInvite, simStart); n != 5 {
			t.Fatalf("week 1 of the ramp sent %d invitations, want 5 (25%% of 20)", n)
		}
		r := s.diagnosis(t, camp.ID)
		f := mustFinding(t, r, policy.CodeRamp)
		sameInstant(t, "ramp clears", f.ClearsAt, simStart.Add(24*time.Hour+8*time.Hour)) // Tuesday 09:00 Paris
		if !strings.Contains(f.Message, "week 1 of 5") || !strings.Contains(f.Message, "(Europe/Paris)") {
			t.Fatalf("ramp sentence: %q", f.Message)
		}
	})
}
