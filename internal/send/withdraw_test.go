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

// withdrawSim is a sim with one premium sender that withdraws invitations
// after 7 days, and one campaign of one prospect with the given steps.
func withdrawSim(t *testing.T, d *db.DB, seed uint64, steps []campaign.Step) (*sim, simAccount, campaign.Campaign) {
	t.Helper()
	s := newSim(t, d, seed)
	sa := s.addAccount(t, "Withdrawer", account.TierPremium, "UTC", 5)
	days := 7
	if _, err := s.accounts.UpdateSettings(s.ctx, s.ws.ID, sa.acc.ID, account.SettingsPatch{WithdrawAfterDays: &days, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	camp := s.addCampaign(t, "wd", steps, 1, []string{sa.acc.ID})
	return s, sa, camp
}

// invitationState reads the state of the only invitation of an account.
func invitationState(t *testing.T, s *sim, accountID string) (state string, withdrawAt db.NullTime) {
	t.Helper()
	if err := s.d.SQL.QueryRow(`SELECT state, withdraw_at FROM invitations WHERE account_id = $1`, accountID).Scan(&state, &withdrawAt); err != nil {
		t.Fatal(err)
	}
	return state, withdrawAt
}

// A withdrawal whose worker dies between the provider call and its record
// is withdrawn exactly once: on restart it is reconciled from the sent
// list, never sent again; the prospect takes the condition's else-branch.
func TestWithdrawalAfterCrashIsSentOnceAndReconciled(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s, sa, camp := withdrawSim(t, d, 31, []campaign.Step{{ID: "i1", Type: campaign.StepInvite},
			{ID: "c1", Type: campaign.StepIfAccepted, Within: "240h", Then: "m1", Else: "v1"},
			{ID: "m1", Type: campaign.StepMessage, Text: "Thanks"},
			{ID: "v1", Type: campaign.StepViewProfile}})
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 10*time.Minute)
		invs := s.fake.Invitations(sa.provider)
		if len(invs) != 1 {
			t.Fatalf("invitations: %+v", invs)
		}
		state, due := invitationState(t, s, sa.acc.ID)
		if state != "pending" || !due.Time.Equal(invs[0].SentAt.UTC().Add(7*24*time.Hour)) {
			t.Fatalf("invitation %s due for withdrawal at %v, sent %v", state, due.Time, invs[0].SentAt)
		}
		limits, err := send.Limits(s.ctx, d.SQL, sa.acc, s.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, l := range limits {
			if l.Period == "pending" {
				found = l.Used == 1 && l.Cap == 400 && l.Remaining == 399 && l.ResetsAt == nil
			}
		}
		if !found {
			t.Fatalf("limits carry no pending row of 1 of 400: %+v", limits)
		}

		// A worker that claims through the queue: capture the claim.
		var claimed []string
		queued, err := send.New(send.Options{DB: d, Accounts: s.accounts, Campaigns: s.camps, Client: s.client, Clock: s.clock, Seed: 1,
			Enqueue: func(_ context.Context, _ *sql.Tx, id string) error { claimed = append(claimed, id); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		s.clock.Set(due.Time.Add(time.Minute))
		if _, err := queued.RunPass(s.ctx); err != nil || len(claimed) != 1 {
			t.Fatalf("claim of the withdrawal: %v %v", claimed, err)
		}
		var action string
		if err := d.SQL.QueryRow(`SELECT action FROM sends WHERE id = $1`, claimed[0]).Scan(&action); err != nil || action != "withdraw" {
			t.Fatalf("the claim is a %q (%v), want a withdrawal", action, err)
		}
		// The provider withdraws it but the answer is lost, and the worker
		// dies before recording anything.
		s.fake.LoseResponses(fake.ActionCancelInvitation, 1)
		if _, err := d.SQL.Exec(`UPDATE sends SET state = 'dispatched', dispatched_at = $2 WHERE id = $1`, claimed[0], s.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.client.CancelInvitation(s.ctx, sa.provider, invs[0].ID); err == nil {
			t.Fatal("a lost answer came back")
		}
		// After the restart the job runs again.
		s.clock.Advance(10 * time.Minute)
		if err := queued.Dispatch(s.ctx, claimed[0]); err != nil {
			t.Fatal(err)
		}
		var sendState string
		if err := d.SQL.QueryRow(`SELECT state FROM sends WHERE id = $1`, claimed[0]).Scan(&sendState); err != nil || sendState != "confirmed" {
			t.Fatalf("withdrawal after reconciliation: %s %v", sendState, err)
		}
		if state, _ := invitationState(t, s, sa.acc.ID); state != "withdrawn" {
			t.Fatalf("invitation %s, want withdrawn", state)
		}
		// The prospect took the else-branch: the profile view goes next.
		s.runFor(t, 24*time.Hour)
		if n := countCalls(s.fake, sa.provider, fake.ActionCancelInvitation, simStart); n != 1 {
			t.Fatalf("the withdrawal was sent %d times", n)
		}
		if n := countCalls(s.fake, sa.provider, fake.ActionViewProfile, due.Time); n != 1 {
			t.Fatalf("the else-branch's profile view was sent %d times", n)
		}
		used, err := send.Used(s.ctx, d.SQL, sa.acc.ID, policy.ActionWithdraw, policy.UTCDayStart(due.Time))
		if err != nil || used != 1 {
			t.Fatalf("withdrawals counted on the day: %d %v", used, err)
		}
		var ended int
		if err := d.SQL.QueryRow(`SELECT count(*) FROM enrollments WHERE campaign_id = $1 AND state = 'completed'`, camp.ID).Scan(&ended); err != nil || ended != 1 {
			t.Fatalf("completed enrollments: %d %v", ended, err)
		}
	})
}

// A withdrawn person is not invited again for three weeks: the campaign's
// else-branch invites again, and the one policy holds that invitation
// (recently_withdrawn) until 21 days after the withdrawal, when it goes.
func TestWithdrawnPersonWaitsThreeWeeks(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s, sa, camp := withdrawSim(t, d, 32, []campaign.Step{{ID: "i1", Type: campaign.StepInvite},
			{ID: "c1", Type: campaign.StepIfAccepted, Within: "240h", Then: campaign.End, Else: "i2"},
			{ID: "i2", Type: campaign.StepInvite}})
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 10*time.Minute)
		_, due := invitationState(t, s, sa.acc.ID)
		s.clock.Set(due.Time)
		s.runFor(t, 10*time.Minute)
		var withdrawnAt time.Time
		if err := d.SQL.QueryRow(`SELECT finished_at FROM sends WHERE action = 'withdraw' AND state = 'confirmed'`).Scan(&withdrawnAt); err != nil {
			t.Fatalf("no confirmed withdrawal: %v", err)
		}
		var next time.Time
		var step string
		if err := d.SQL.QueryRow(`SELECT step_id, next_action_at FROM enrollments WHERE campaign_id = $1`, camp.ID).Scan(&step, &next); err != nil {
			t.Fatal(err)
		}
		until := withdrawnAt.UTC().Add(policy.ReinviteWait)
		if step != "i2" || !next.Equal(until) {
			t.Fatalf("enrollment at %s due %v, want i2 held until %v", step, next, until)
		}
		f := mustFinding(t, s.diagnosis(t, camp.ID), policy.CodeRecentlyWithdrawn)
		if f.ClearsAt == nil || !f.ClearsAt.Equal(until) {
			t.Fatalf("the diagnosis names the wait until %v: %+v", until, f)
		}
		// A day of passes, then the last minutes before the wait ends:
		// nothing is sent to the person.
		s.runFor(t, 24*time.Hour)
		s.clock.Set(until.Add(-5 * time.Minute))
		s.runFor(t, 4*time.Minute)
		if n := countCalls(s.fake, sa.provider, fake.ActionInvite, simStart); n != 1 {
			t.Fatalf("%d invitations before the wait ended, want the first only", n)
		}
		// Once it has ended (inside the window) the second invitation goes
		// and LinkedIn accepts it.
		s.clock.Set(until.Add(time.Minute))
		s.runFor(t, 24*time.Hour)
		var applied, refused int
		for _, c := range s.fake.Calls() {
			if c.Action == fake.ActionInvite && c.AccountID == sa.provider {
				if c.Applied {
					applied++
				} else {
					refused++
				}
			}
		}
		if applied != 2 || refused != 0 {
			t.Fatalf("invitations applied %d, refused %d; want 2 and 0", applied, refused)
		}
	})
}

// LinkedIn's already_invited_recently is the same three-week wait, not a
// failure: the send fails without using one of the prospect's tries, and
// the prospect's next invitation is held by the policy until the wait ends.
func TestAlreadyInvitedRecentlyIsTheReinviteWait(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 33)
		sa := s.addAccount(t, "Refused", account.TierPremium, "UTC", 5)
		camp := s.addCampaign(t, "air", []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}, 1, []string{sa.acc.ID})
		var person string
		if err := d.SQL.QueryRow(`SELECT p.provider_id FROM prospects p JOIN enrollments e ON e.prospect_id = p.id WHERE e.campaign_id = $1`, camp.ID).Scan(&person); err != nil {
			t.Fatal(err)
		}
		// Someone invited and withdrew the person by hand yesterday.
		s.clock.Set(simStart.Add(8 * time.Hour))
		sent, err := s.client.SendInvitation(s.ctx, unipile.InvitationRequest{AccountID: sa.provider, ProviderID: person})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.client.CancelInvitation(s.ctx, sa.provider, string(sent.InvitationID)); err != nil {
			t.Fatal(err)
		}
		s.runFor(t, 2*time.Hour)
		var errKind string
		var finished time.Time
		if err := d.SQL.QueryRow(`SELECT error_kind, finished_at FROM sends WHERE action = 'invite' AND state = 'failed'`).Scan(&errKind, &finished); err != nil {
			t.Fatalf("no refused invitation recorded: %v", err)
		}
		var (
			state    string
			failures int
			next     time.Time
		)
		if err := d.SQL.QueryRow(`SELECT state, failures, next_action_at FROM enrollments WHERE campaign_id = $1`, camp.ID).Scan(&state, &failures, &next); err != nil {
			t.Fatal(err)
		}
		until := finished.UTC().Add(policy.ReinviteWait)
		if errKind != "recently_invited" || state != "active" || failures != 0 || !next.Equal(until) {
			t.Fatalf("refusal %q; enrollment %s, %d failures, due %v; want recently_invited, active, 0, %v", errKind, state, failures, next, until)
		}
		if n := countCalls(s.fake, sa.provider, fake.ActionInvite, simStart.Add(9*time.Hour)); n != 1 {
			t.Fatalf("%d invitation calls after the refusal, want the one refused", n)
		}
	})
}

// The sent list's reconciliation counts invitations made outside Keel and
// closes Keel's that left the list (withdrawn by hand here), freeing the
// slots they held: the prospect the pending cap parked is due again.
func TestSentListReconciliation(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 34)
		sa := s.addAccount(t, "Synced", account.TierPremium, "UTC", 5)
		one := 1
		if _, err := s.accounts.UpdateSettings(s.ctx, s.ws.ID, sa.acc.ID, account.SettingsPatch{Actor: "test",
			Caps: &account.CapsPatch{InvitePending: &one}}); err != nil {
			t.Fatal(err)
		}
		camp := s.addCampaign(t, "sync", []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}, 2, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		if _, err := s.engine.SyncInvitations(s.ctx); err != nil {
			t.Fatal(err)
		}
		s.runFor(t, 10*time.Minute)
		invs := s.fake.Invitations(sa.provider)
		if len(invs) != 1 {
			t.Fatalf("one invitation under a pending cap of 1, got %d", len(invs))
		}
		var parked int
		if err := d.SQL.QueryRow(`SELECT count(*) FROM enrollments WHERE campaign_id = $1 AND parked_by = 'pending_invitations'`, camp.ID).Scan(&parked); err != nil || parked != 1 {
			t.Fatalf("parked by the pending cap: %d %v", parked, err)
		}
		// Someone withdraws it by hand and invites a stranger, in LinkedIn.
		if err := s.client.CancelInvitation(s.ctx, sa.provider, invs[0].ID); err != nil {
			t.Fatal(err)
		}
		s.fake.AddPerson(fake.Person{ProviderID: "ACoAAstranger"})
		if _, err := s.client.SendInvitation(s.ctx, unipile.InvitationRequest{AccountID: sa.provider, ProviderID: "ACoAAstranger"}); err != nil {
			t.Fatal(err)
		}
		// The next read (hours later) sees both.
		s.clock.Advance(send.InvitationSyncEvery + send.InvitationSyncJitter)
		if n, err := s.engine.SyncInvitations(s.ctx); err != nil || n != 1 {
			t.Fatalf("sync read %d accounts: %v", n, err)
		}
		var gone, outside, due int
		if err := d.SQL.QueryRow(`SELECT
			(SELECT count(*) FROM invitations WHERE account_id = $1 AND state = 'gone' AND send_id IS NOT NULL),
			(SELECT count(*) FROM invitations WHERE account_id = $1 AND state = 'pending' AND send_id IS NULL),
			(SELECT count(*) FROM enrollments WHERE campaign_id = $2 AND parked_by IS NULL AND state = 'active' AND next_action_at <= $3)`,
			sa.acc.ID, camp.ID, s.clock.Now()).Scan(&gone, &outside, &due); err != nil {
			t.Fatal(err)
		}
		if gone != 1 || outside != 1 || due != 1 {
			t.Fatalf("gone %d, outside %d, due again %d; want 1, 1, 1", gone, outside, due)
		}
		// The stranger's invitation holds the one slot: still no second one.
		s.runFor(t, 10*time.Minute)
		if n := countCalls(s.fake, sa.provider, fake.ActionInvite, simStart); n != 2 {
			t.Fatalf("%d invitation calls (one by Keel, one by hand), want 2", n)
		}
	})
}
