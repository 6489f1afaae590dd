package send_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

func countCalls(f *fake.Server, accountProvider, action string, since time.Time) (n int) {
	for _, c := range f.Calls() {
		if c.Action == action && c.AccountID == accountProvider && !c.Time.Before(since) {
			n++
		}
	}
	return n
}

func (s *sim) runFor(t *testing.T, d time.Duration) {
	t.Helper()
	end := s.clock.Now().Add(d)
	for now := s.clock.Now(); now.Before(end); now = s.clock.Advance(time.Minute) {
		if _, err := s.engine.RunPass(s.ctx); err != nil {
			t.Fatalf("pass at %v: %v", now, err)
		}
	}
}

func TestInsufficientCreditsStopsInMailsUntilNextMonth(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 3)
		sa := s.addAccountWith(t, "NoSeat", account.TierPremium, "UTC", 5, nil)
		s.addCampaign(t, "inmails", []campaign.Step{{ID: "m1", Type: campaign.StepInMail, Subject: "Hi {{first_name}}", Text: "Hello"}}, 30, []string{sa.acc.ID})
		s.addCampaign(t, "invites", []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}, 30, []string{sa.acc.ID})
		// Monday 2 March → Thursday 5 March, then jump to the last days of March.
		s.runFor(t, 4*24*time.Hour)
		if n := countCalls(s.fake, sa.provider, fake.ActionInMail, simStart); n != 1 {
			t.Fatalf("InMail calls after insufficient_credits: %d, want exactly the one that failed", n)
		}
		if n := countCalls(s.fake, sa.provider, fake.ActionInvite, simStart); n == 0 {
			t.Fatal("invites on the same account must continue")
		}
		s.clock.Set(time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC))
		s.runFor(t, 26*time.Hour)
		if n := countCalls(s.fake, sa.provider, fake.ActionInMail, simStart); n != 1 {
			t.Fatalf("InMail calls before the 1st of April: %d", n)
		}
		s.clock.Set(time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC))
		s.runFor(t, 3*time.Hour)
		if n := countCalls(s.fake, sa.provider, fake.ActionInMail, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)); n == 0 {
			t.Fatal("InMails must be tried again from the 1st of the next month")
		}
	})
}

func TestDisconnectPausesAndReconnectResumes(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 4)
		sa := s.addAccount(t, "Solo", account.TierPremium, "UTC", 5)
		camp := s.addCampaign(t, "solo", []campaign.Step{{ID: "v1", Type: campaign.StepViewProfile}}, 50, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 30*time.Minute)
		before := countCalls(s.fake, sa.provider, fake.ActionViewProfile, simStart)
		if before == 0 {
			t.Fatal("nothing was sent before the disconnect")
		}
		c := account.TerminalCredentials()
		if _, err := s.accounts.Flip(s.ctx, account.FlipRequest{AccountID: sa.acc.ID, To: account.StatusDisconnected, Copy: &c,
			Reason: "CREDENTIALS", Source: account.SourceWebhook}); err != nil {
			t.Fatal(err)
		}
		got, _ := s.camps.Get(s.ctx, s.d.SQL, "", camp.ID)
		if got.Status != campaign.StatusPaused || got.PausedReason != campaign.ReasonAccountDisconnected {
			t.Fatalf("the flip's transaction must pause the campaign: %s %s", got.Status, got.PausedReason)
		}
		mark := s.clock.Now()
		s.runFor(t, 2*time.Hour)
		if n := countCalls(s.fake, sa.provider, fake.ActionViewProfile, mark); n != 0 {
			t.Fatalf("%d sends through a disconnected account", n)
		}
		if _, err := s.accounts.Flip(s.ctx, account.FlipRequest{AccountID: sa.acc.ID, To: account.StatusConnected,
			Reason: "RECONNECTED", Source: account.SourceHostedAuth}); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.camps.Get(s.ctx, s.d.SQL, "", camp.ID); got.Status != campaign.StatusRunning {
			t.Fatalf("reconnect must resume the campaign in the flip: %s %s", got.Status, got.PausedReason)
		}
		mark = s.clock.Now()
		if _, err := s.engine.RunPass(s.ctx); err != nil {
			t.Fatal(err)
		}
		if n := countCalls(s.fake, sa.provider, fake.ActionViewProfile, mark); n != 1 {
			t.Fatalf("one scheduler pass after the reconnect sent %d, want 1", n)
		}
	})
}

func TestCrashAfterDispatchNeverResends(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 5)
		sa := s.addAccount(t, "Crashy", account.TierPremium, "UTC", 5)
		s.addCampaign(t, "crash", []campaign.Step{{ID: "i1", Type: campaign.StepInvite, Note: "Hi {{first_name}}"}}, 3, []string{sa.acc.ID})
		// A worker that claims through the queue: capture the claim, don't dispatch.
		var claimed []string
		queued, err := send.New(send.Options{DB: d, Accounts: s.accounts, Campaigns: s.camps, Client: s.client, Clock: s.clock, Seed: 1,
			Enqueue: func(_ context.Context, _ *sql.Tx, id string) error { claimed = append(claimed, id); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		s.clock.Set(simStart.Add(9 * time.Hour))
		if _, err := queued.RunPass(s.ctx); err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		// The provider applies the invite but the answer is lost; then the
		// worker dies before recording anything.
		s.fake.LoseResponses(fake.ActionInvite, 1)
		var prospect string
		if err := d.SQL.QueryRow(`SELECT p.provider_id FROM sends s JOIN prospects p ON p.id = s.prospect_id WHERE s.id = $1`, claimed[0]).Scan(&prospect); err != nil {
			t.Fatal(err)
		}
		if _, err := d.SQL.Exec(`UPDATE sends SET state = 'dispatched', dispatched_at = $2 WHERE id = $1`, claimed[0], s.clock.Now()); err != nil {
			t.Fatal(err)
		}
		_, callErr := s.client.SendInvitation(s.ctx, unipile.InvitationRequest{AccountID: sa.provider, ProviderID: prospect, Message: "Hi"})
		if unipile.KindOf(callErr) != unipile.KindUnknownOutcome {
			t.Fatalf("a lost answer must be an unknown outcome, got %v", callErr)
		}
		// After restart the job runs again (River rescues it).
		s.clock.Advance(10 * time.Minute)
		if err := queued.Dispatch(s.ctx, claimed[0]); err != nil {
			t.Fatal(err)
		}
		var state string
		if err := d.SQL.QueryRow(`SELECT state FROM sends WHERE id = $1`, claimed[0]).Scan(&state); err != nil || state != "confirmed" {
			t.Fatalf("ledger row after reconciliation: %s %v", state, err)
		}
		if n := countCalls(s.fake, sa.provider, fake.ActionInvite, simStart); n != 1 {
			t.Fatalf("the invite was sent %d times", n)
		}
		used, err := send.Used(s.ctx, d.SQL, sa.acc.ID, policy.ActionInvite, policy.UTCDayStart(s.clock.Now()))
		if err != nil || used != 1 {
			t.Fatalf("caps must count the reconciled send: %d %v", used, err)
		}
		// Running everything again sends nothing more for that prospect.
		s.runFor(t, time.Hour)
		n := 0
		for _, c := range s.fake.Calls() {
			if c.Action == fake.ActionInvite && c.Recipient == prospect && c.Applied {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("prospect %s invited %d times", prospect, n)
		}
	})
}

func enrollmentState(t *testing.T, s *sim) (string, string) {
	t.Helper()
	var state, reason sql.NullString
	if err := s.d.SQL.QueryRow(`SELECT state, ended_reason FROM enrollments LIMIT 1`).Scan(&state, &reason); err != nil {
		t.Fatal(err)
	}
	return state.String, reason.String
}

func TestReplyStopsTheSequence(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 8)
		sa := s.addAccount(t, "Replies", account.TierPremium, "UTC", 5)
		s.addCampaign(t, "replies", []campaign.Step{{ID: "i1", Type: campaign.StepInvite},
			{ID: "w1", Type: campaign.StepWait, Duration: "24h"}, {ID: "m1", Type: campaign.StepMessage, Text: "Hi"}}, 1, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 10*time.Minute)
		var pid string
		if err := s.d.SQL.QueryRow(`SELECT provider_id FROM prospects`).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		err := s.d.InTx(s.ctx, func(tx *sql.Tx) error {
			n, err := s.engine.StampReplied(s.ctx, tx, send.ReplySignal{WorkspaceID: s.ws.ID, AccountID: sa.acc.ID, ProviderID: pid})
			if err == nil && n != 1 {
				t.Errorf("stamped %d enrollments", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if state, _ := enrollmentState(t, s); state != "replied" {
			t.Fatalf("state after a reply with stop-on-reply: %s", state)
		}
		s.runFor(t, 48*time.Hour)
		if n := countCalls(s.fake, sa.provider, fake.ActionStartChat, simStart); n != 0 {
			t.Fatalf("%d messages after the prospect replied", n)
		}
	})
}

// pollUntilStamped runs the relations poll once a minute, as its task
// does, until it stamps an accept (at most one poll period), and returns
// how many it stamped.
func (s *sim) pollUntilStamped(t *testing.T) int {
	t.Helper()
	for i := 0; i <= int(send.RelationsPollEvery/time.Minute); i++ {
		n, err := s.engine.PollRelations(s.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return n
		}
		s.clock.Advance(time.Minute)
	}
	return 0
}

func TestPolledAcceptAndLateAcceptFollowUp(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 9)
		sa := s.addAccount(t, "Poll", account.TierPremium, "UTC", 5)
		s.addCampaign(t, "poll", []campaign.Step{{ID: "i1", Type: campaign.StepInvite, Note: "Hi {{first_name}}"},
			{ID: "c1", Type: campaign.StepIfAccepted, Within: "1h", Then: "m1", Else: campaign.End},
			{ID: "m1", Type: campaign.StepMessage, Text: "Thanks"}}, 1, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 2*time.Hour)
		if state, reason := enrollmentState(t, s); state != "ended" || reason == "" {
			t.Fatalf("the condition must time out into its else-branch (end): %s %q", state, reason)
		}
		// The accept arrives late and no webhook tells us: polling finds it and
		// the late-accept policy (follow_up, the default) sends the follow-up.
		invs := s.fake.Invitations(sa.provider)
		if len(invs) != 1 {
			t.Fatalf("invitations: %+v", invs)
		}
		if err := s.fake.Accept(invs[0].ID); err != nil {
			t.Fatal(err)
		}
		if n := s.pollUntilStamped(t); n != 1 {
			t.Fatalf("polling stamped %d", n)
		}
		if n, err := s.engine.PollRelations(s.ctx); err != nil || n != 0 {
			t.Fatalf("an accept is stamped once; second poll stamped %d: %v", n, err)
		}
		mark := s.clock.Now()
		s.runFor(t, 10*time.Minute)
		if n := countCalls(s.fake, sa.provider, fake.ActionStartChat, mark); n != 1 {
			t.Fatalf("follow-up messages after the late accept: %d", n)
		}
		if state, _ := enrollmentState(t, s); state != "completed" {
			t.Fatalf("state after the follow-up: %s", state)
		}
	})
}

func TestHighFailureRatePausesTheCampaignWithAnAlert(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 10)
		sa := s.addAccount(t, "Fails", account.TierPremium, "UTC", 5)
		camp := s.addCampaign(t, "fails", []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}, 40, []string{sa.acc.ID})
		s.fake.InjectFault(fake.Fault{Action: fake.ActionInvite, Status: 403, Type: "errors/resource_access_restricted"})
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 8*time.Hour)
		got, _ := s.camps.Get(s.ctx, s.d.SQL, "", camp.ID)
		if got.Status != campaign.StatusPaused || got.PausedReason != campaign.ReasonHighFailureRate {
			t.Fatalf("campaign after repeated provider failures: %s %s", got.Status, got.PausedReason)
		}
		var alerts int
		if err := s.d.SQL.QueryRow(`SELECT count(*) FROM admin_alerts WHERE kind = 'high_failure_rate' AND acknowledged_at IS NULL`).Scan(&alerts); err != nil || alerts != 1 {
			t.Fatalf("open high_failure_rate alerts: %d %v", alerts, err)
		}
		calls := countCalls(s.fake, sa.provider, fake.ActionInvite, simStart)
		s.runFor(t, 24*time.Hour)
		if after := countCalls(s.fake, sa.provider, fake.ActionInvite, simStart); after != calls {
			t.Fatalf("a paused campaign kept sending: %d -> %d", calls, after)
		}
	})
}

func TestWeeklyInviteCapZeroDefersWithoutErrors(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 5)
		sa := s.addAccountWith(t, "NoInvites", account.TierPremium, "UTC", 5, nil)
		if _, err := s.d.SQL.ExecContext(s.ctx, `UPDATE linkedin_accounts SET cap_invite_weekly = 0 WHERE id = $1`, sa.acc.ID); err != nil {
			t.Fatal(err)
		}
		s.addCampaign(t, "invites", []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}, 5, []string{sa.acc.ID})
		// Monday from midnight to noon: the sending window opens at 09:00.
		s.runFor(t, 12*time.Hour)
		if n := countCalls(s.fake, sa.provider, fake.ActionInvite, simStart); n != 0 {
			t.Fatalf("%d invites sent with a weekly invite cap of 0", n)
		}
		acc, err := s.accounts.Get(s.ctx, s.d.SQL, "", sa.acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		limits, err := send.Limits(s.ctx, s.d.SQL, acc, s.clock.Now())
		if err != nil {
			t.Fatalf("limits with a weekly invite cap of 0: %v", err)
		}
		for _, l := range limits {
			if l.Action == policy.ActionInvite && l.Period == "7d" && (l.Cap != 0 || l.Remaining != 0 || l.ResetsAt != nil) {
				// Nothing used: nothing resets (docs/surfaces.md#json-shapes).
				t.Fatalf("weekly invite limit with cap 0: %+v", l)
			}
		}
	})
}
