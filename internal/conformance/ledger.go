package conformance

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/workspace"
)

// The send ledger's core rules, driven only through send's exported API and
// the fake provider. The send package's own tests cover the rest of its
// behaviour on both engines; these are the rules an engine must never bend.

// ledgerEnv is one workspace with senders, campaigns and a fake provider.
type ledgerEnv struct {
	ctx      context.Context
	d        *db.DB
	clock    clock.Clock
	fake     *fake.Server
	client   *unipile.Client
	accounts *account.Service
	camps    *campaign.Service
	ws       workspace.Workspace
}

// ledgerSender is a connected account and its provider id.
type ledgerSender struct {
	account  account.Account
	provider string
}

func newLedgerEnv(ctx context.Context, t *testing.T, newDB NewDB, c clock.Clock) *ledgerEnv {
	t.Helper()
	d := newDB(t, dbtest.Options{})
	f := fake.New(fake.Options{Clock: c})
	if err := f.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("starting the fake provider: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	client, err := unipile.New(unipile.Options{BaseURL: f.URL(), APIKey: f.APIKey()})
	if err != nil {
		t.Fatalf("building the provider client: %v", err)
	}
	e := &ledgerEnv{ctx: ctx, d: d, clock: c, fake: f, client: client,
		accounts: account.NewService(d, c), camps: campaign.NewService(d, c)}
	e.accounts.OnFlip("campaigns", e.camps.OnAccountFlip)
	if e.ws, err = workspace.Create(ctx, d.SQL, "ledger", "", c.Now()); err != nil {
		t.Fatalf("creating workspace: %v", err)
	}
	return e
}

// engine builds a send engine; opts fills in everything the env owns.
func (e *ledgerEnv) engine(t *testing.T, opts send.Options) *send.Engine {
	t.Helper()
	opts.DB, opts.Accounts, opts.Campaigns, opts.Client, opts.Clock = e.d, e.accounts, e.camps, e.client, e.clock
	eng, err := send.New(opts)
	if err != nil {
		t.Fatalf("building the send engine: %v", err)
	}
	return eng
}

// addSender creates a connected, fully ramped account that may send at any
// hour of any day, with the given daily invite cap.
func (e *ledgerEnv) addSender(t *testing.T, name string, inviteCap int) ledgerSender {
	t.Helper()
	pid := e.fake.AddAccount(fake.AccountSpec{Name: name})
	a, err := e.accounts.Create(e.ctx, e.d.SQL, account.NewAccount{WorkspaceID: e.ws.ID, ProviderAccountID: pid, Name: name,
		Status: account.StatusConnected, Tier: account.TierPremium, Timezone: "UTC"})
	if err != nil {
		t.Fatalf("creating account: %v", err)
	}
	if _, err := e.d.SQL.ExecContext(e.ctx, `UPDATE linkedin_accounts SET ramp_started_at = $2,
		window_days = 'sun,mon,tue,wed,thu,fri,sat', window_start = 0, window_end = 1440, cap_invite_daily = $3 WHERE id = $1`,
		a.ID, e.clock.Now().Add(-60*24*time.Hour), inviteCap); err != nil {
		t.Fatalf("opening the account's window: %v", err)
	}
	if a, err = e.accounts.Get(e.ctx, e.d.SQL, "", a.ID); err != nil {
		t.Fatalf("reading account: %v", err)
	}
	return ledgerSender{account: a, provider: pid}
}

// addInviteCampaign starts a one-step invite campaign over n new prospects.
func (e *ledgerEnv) addInviteCampaign(t *testing.T, name string, n int, senders ...ledgerSender) campaign.Campaign {
	t.Helper()
	var ids []string
	for _, s := range senders {
		ids = append(ids, s.account.ID)
	}
	c, err := e.camps.Create(e.ctx, e.ws.ID, campaign.Input{Name: &name, AccountIDs: ids,
		Steps: []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}})
	if err != nil {
		t.Fatalf("creating campaign: %v", err)
	}
	rows := make([]campaign.ProspectRow, n)
	for i := range rows {
		pid := fmt.Sprintf("ACoAA%s%04d", name, i)
		e.fake.AddPerson(fake.Person{ProviderID: pid, FirstName: fmt.Sprintf("P%d", i)})
		rows[i] = campaign.ProspectRow{Row: i + 1, ProviderID: pid, FirstName: fmt.Sprintf("P%d", i)}
	}
	if res, err := e.camps.Import(e.ctx, c.ID, e.ws.ID, rows); err != nil || res.Imported != n {
		t.Fatalf("importing prospects: %+v %v", res, err)
	}
	if c, err = e.camps.Start(e.ctx, e.ws.ID, c.ID); err != nil {
		t.Fatalf("starting campaign: %v", err)
	}
	return c
}

func (e *ledgerEnv) sendState(t *testing.T, q db.Querier, id string) send.State {
	t.Helper()
	var state string
	if err := q.QueryRowContext(e.ctx, `SELECT state FROM sends WHERE id = $1`, id).Scan(&state); err != nil {
		t.Fatalf("reading send %s: %v", id, err)
	}
	return send.State(state)
}

// appliedInvites counts the invitations the provider applied for a sender.
func (e *ledgerEnv) appliedInvites(provider string) int {
	n := 0
	for _, c := range e.fake.Calls() {
		if c.Action == fake.ActionInvite && c.AccountID == provider && c.Applied {
			n++
		}
	}
	return n
}

// ExerciseLedger runs the send ledger's core rules against databases made
// by newDB: a claim writes its intent row in the transaction that passes
// the gates; a row is dispatched before the provider call; a row found
// dispatched is reconciled, never resent; caps hold under eight concurrent
// workers; one send per (campaign, step, prospect).
func ExerciseLedger(ctx context.Context, t *testing.T, newDB NewDB) {
	t.Run("ClaimWritesTheIntentRowInTheGateTransaction", func(t *testing.T) {
		t.Parallel()
		e := newLedgerEnv(ctx, t, newDB, clock.NewFake(Start))
		open := e.addSender(t, "Open", 5)
		closed := e.addSender(t, "Closed", 5)
		e.addInviteCampaign(t, "claims", 3, open)
		e.addInviteCampaign(t, "gated", 3, closed)
		// A disconnected account fails the gates: nothing is claimed for it.
		copyText := account.TerminalCredentials()
		if _, err := e.accounts.Flip(ctx, account.FlipRequest{AccountID: closed.account.ID, To: account.StatusDisconnected,
			Copy: &copyText, Reason: "CREDENTIALS", Source: account.SourceWebhook}); err != nil {
			t.Fatalf("disconnecting: %v", err)
		}
		var claimed []string
		eng := e.engine(t, send.Options{Seed: 1, Enqueue: func(ctx context.Context, tx *sql.Tx, id string) error {
			// The intent row is visible inside the claim's own transaction,
			// before it commits.
			if st := e.sendState(t, tx, id); st != send.StateIntent {
				t.Errorf("send %s in the claim transaction: %s, want %s", id, st, send.StateIntent)
			}
			claimed = append(claimed, id)
			return nil
		}})
		if _, err := eng.RunPass(ctx); err != nil {
			t.Fatalf("pass: %v", err)
		}
		if len(claimed) != 1 {
			t.Fatalf("one pass claimed %d sends, want 1 (spacing allows one per account)", len(claimed))
		}
		var accountID string
		if err := e.d.SQL.QueryRowContext(ctx, `SELECT account_id FROM sends WHERE id = $1`, claimed[0]).Scan(&accountID); err != nil {
			t.Fatalf("reading the claimed send: %v", err)
		}
		if accountID != open.account.ID {
			t.Fatalf("claimed for account %s, want the connected one", accountID)
		}
		var n int
		if err := e.d.SQL.QueryRowContext(ctx, `SELECT count(*) FROM sends WHERE account_id = $1`, closed.account.ID).Scan(&n); err != nil || n != 0 {
			t.Fatalf("sends for a disconnected account: %d %v", n, err)
		}
		if got := e.appliedInvites(open.provider); got != 0 {
			t.Fatalf("a claim alone reached the provider %d times", got)
		}
	})

	t.Run("DispatchedBeforeTheProviderCall", func(t *testing.T) {
		t.Parallel()
		e := newLedgerEnv(ctx, t, newDB, clock.NewFake(Start))
		s := e.addSender(t, "Slow", 5)
		e.addInviteCampaign(t, "slow", 1, s)
		var claimed []string
		eng := e.engine(t, send.Options{Seed: 1, Enqueue: func(_ context.Context, _ *sql.Tx, id string) error {
			claimed = append(claimed, id)
			return nil
		}})
		if _, err := eng.RunPass(ctx); err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		// While the provider takes its time, the ledger already says
		// dispatched: a crash now can never lead to a second call.
		e.fake.SetLatency(time.Second)
		done := make(chan error, 1)
		go func() { done <- eng.Dispatch(ctx, claimed[0]) }()
		seen := false
		for !seen {
			select {
			case err := <-done:
				t.Fatalf("dispatch returned (%v) before the row was seen dispatched", err)
			case <-time.After(10 * time.Millisecond):
			}
			seen = e.sendState(t, e.d.SQL, claimed[0]) == send.StateDispatched
		}
		if err := <-done; err != nil {
			t.Fatalf("dispatch: %v", err)
		}
		if st := e.sendState(t, e.d.SQL, claimed[0]); st != send.StateConfirmed {
			t.Fatalf("after the call: %s, want %s", st, send.StateConfirmed)
		}
		if n := e.appliedInvites(s.provider); n != 1 {
			t.Fatalf("the provider applied %d invites, want 1", n)
		}
	})

	t.Run("FoundDispatchedIsReconciledNotResent", func(t *testing.T) {
		t.Parallel()
		fc := clock.NewFake(Start)
		e := newLedgerEnv(ctx, t, newDB, fc)
		s := e.addSender(t, "Crashy", 5)
		e.addInviteCampaign(t, "crash", 2, s)
		var claimed []string
		eng := e.engine(t, send.Options{Seed: 1, Enqueue: func(_ context.Context, _ *sql.Tx, id string) error {
			claimed = append(claimed, id)
			return nil
		}})
		if _, err := eng.RunPass(ctx); err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		// A worker marked the row dispatched and made the call; the answer
		// was lost and the worker died before recording anything.
		e.fake.LoseResponses(fake.ActionInvite, 1)
		var prospect string
		if err := e.d.SQL.QueryRowContext(ctx, `SELECT p.provider_id FROM sends s JOIN prospects p ON p.id = s.prospect_id WHERE s.id = $1`,
			claimed[0]).Scan(&prospect); err != nil {
			t.Fatalf("reading the prospect: %v", err)
		}
		if _, err := e.d.SQL.ExecContext(ctx, `UPDATE sends SET state = 'dispatched', dispatched_at = $2 WHERE id = $1`,
			claimed[0], fc.Now()); err != nil {
			t.Fatalf("marking dispatched: %v", err)
		}
		_, callErr := e.client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: s.provider, ProviderID: prospect})
		if unipile.KindOf(callErr) != unipile.KindUnknownOutcome {
			t.Fatalf("a lost answer must be an unknown outcome, got %v", callErr)
		}
		// The job runs again: the row becomes unknown and is settled from
		// the provider's reads.
		fc.Advance(10 * time.Minute)
		if err := eng.Dispatch(ctx, claimed[0]); err != nil {
			t.Fatalf("dispatching again: %v", err)
		}
		if st := e.sendState(t, e.d.SQL, claimed[0]); st != send.StateConfirmed {
			t.Fatalf("after reconciliation: %s, want %s", st, send.StateConfirmed)
		}
		if n := e.appliedInvites(s.provider); n != 1 {
			t.Fatalf("the invite was applied %d times", n)
		}
		if used, err := send.Used(ctx, e.d.SQL, s.account.ID, policy.ActionInvite, policy.UTCDayStart(fc.Now())); err != nil || used != 1 {
			t.Fatalf("caps must count the reconciled send: %d %v", used, err)
		}
	})

	t.Run("CapsHoldUnderEightWorkers", func(t *testing.T) {
		t.Parallel()
		const inviteCap, senders, prospects, workers = 4, 3, 30, 8
		e := newLedgerEnv(ctx, t, newDB, clock.Real{})
		var list []ledgerSender
		for i := 0; i < senders; i++ {
			list = append(list, e.addSender(t, fmt.Sprintf("W%d", i), inviteCap))
		}
		e.addInviteCampaign(t, "race", prospects, list...)
		eng := e.engine(t, send.Options{Pacing: &policy.Pacing{MinGap: 10 * time.Millisecond, MaxGap: 20 * time.Millisecond}})
		until := time.Now().Add(2 * time.Second)
		var wg sync.WaitGroup
		for i := 0; i < workers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(until) {
					if _, err := eng.RunPass(ctx); err != nil {
						t.Errorf("pass: %v", err)
						return
					}
				}
			}()
		}
		wg.Wait()
		perDay := map[string]int{}
		perRecipient := map[string]int{}
		for _, c := range e.fake.Calls() {
			if c.Action != fake.ActionInvite || !c.Applied {
				continue
			}
			// Caps are per UTC day; a run across midnight counts each day.
			perDay[c.AccountID+" "+c.Time.UTC().Format("2006-01-02")]++
			perRecipient[c.Recipient]++
		}
		total := 0
		for k, n := range perDay {
			total += n
			if n > inviteCap {
				t.Errorf("%s: %d invites, cap %d", k, n, inviteCap)
			}
		}
		for r, n := range perRecipient {
			if n > 1 {
				t.Errorf("prospect %s invited %d times", r, n)
			}
		}
		t.Logf("invites sent: %d (cap %d × %d accounts) by %d workers", total, inviteCap, senders, workers)
		if total == 0 {
			t.Fatal("the workers sent nothing, so the test proved nothing")
		}
	})

	// docs/sending.md#the-send-ledger: a concluded send never changes, so
	// no second answer can confirm, re-time or re-word it.
	t.Run("ConcludedSendsNeverChange", func(t *testing.T) {
		t.Parallel()
		fc := clock.NewFake(Start)
		e := newLedgerEnv(ctx, t, newDB, fc)
		sent, dropped := e.addSender(t, "Final", 5), e.addSender(t, "Dropped", 5)
		e.addInviteCampaign(t, "final", 1, sent)
		e.addInviteCampaign(t, "dropped", 1, dropped)
		claimed := map[string]string{} // account id → send id
		eng := e.engine(t, send.Options{Seed: 1, Enqueue: func(_ context.Context, tx *sql.Tx, id string) error {
			var acc string
			if err := tx.QueryRowContext(ctx, `SELECT account_id FROM sends WHERE id = $1`, id).Scan(&acc); err != nil {
				return err
			}
			claimed[acc] = id
			return nil
		}})
		if _, err := eng.RunPass(ctx); err != nil || len(claimed) != 2 {
			t.Fatalf("claims: %v %v", claimed, err)
		}
		confirmed, cancelled := claimed[sent.account.ID], claimed[dropped.account.ID]
		if err := eng.Dispatch(ctx, confirmed); err != nil {
			t.Fatalf("dispatch: %v", err)
		}
		if _, err := e.d.SQL.ExecContext(ctx, `UPDATE sends SET state = 'cancelled', error = 'test', finished_at = claimed_at WHERE id = $1`,
			cancelled); err != nil {
			t.Fatalf("cancelling: %v", err)
		}
		fc.Advance(time.Hour)
		if st := e.sendState(t, e.d.SQL, confirmed); st != send.StateConfirmed {
			t.Fatalf("first send: %s", st)
		}
		for _, bad := range []struct{ what, query, id string }{
			{"confirming again", `UPDATE sends SET state = 'confirmed', finished_at = $2 WHERE id = $1`, confirmed},
			{"a new provider reference", `UPDATE sends SET provider_ref = 'other' WHERE id = $1 AND $2 IS NOT NULL`, confirmed},
			{"a chat id", `UPDATE sends SET chat_id = 'chat_other' WHERE id = $1 AND $2 IS NOT NULL`, confirmed},
			{"parking", `UPDATE sends SET parked_at = $2 WHERE id = $1`, confirmed},
			{"an error on a confirmed send", `UPDATE sends SET error = 'late', error_kind = 'transient' WHERE id = $1 AND $2 IS NOT NULL`, confirmed},
			{"a settlement", `UPDATE sends SET settled_by = 'ops', settled_at = $2 WHERE id = $1`, confirmed},
			{"re-wording a cancellation", `UPDATE sends SET error = 'other' WHERE id = $1 AND $2 IS NOT NULL`, cancelled},
			{"re-timing a cancellation", `UPDATE sends SET finished_at = $2 WHERE id = $1`, cancelled},
		} {
			if _, err := e.d.SQL.ExecContext(ctx, bad.query, bad.id, fc.Now()); err == nil {
				t.Errorf("%s: allowed", bad.what)
			}
		}
		var ref, finished string
		if err := e.d.SQL.QueryRowContext(ctx, `SELECT COALESCE(provider_ref, ''), CAST(finished_at AS TEXT) FROM sends WHERE id = $1`,
			confirmed).Scan(&ref, &finished); err != nil || ref == "" || ref == "other" {
			t.Fatalf("the confirmed send after the refused writes: ref %q, finished %s, %v", ref, finished, err)
		}
	})

	t.Run("OneSendPerCampaignStepProspect", func(t *testing.T) {
		t.Parallel()
		e := newLedgerEnv(ctx, t, newDB, clock.NewFake(Start))
		s := e.addSender(t, "Once", 5)
		e.addInviteCampaign(t, "once", 1, s)
		var claimed []string
		eng := e.engine(t, send.Options{Seed: 1, Enqueue: func(_ context.Context, _ *sql.Tx, id string) error {
			claimed = append(claimed, id)
			return nil
		}})
		if _, err := eng.RunPass(ctx); err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		copyRow := `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state, claimed_at)
			SELECT $2, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, 'intent', claimed_at
			  FROM sends WHERE id = $1`
		_, err := e.d.SQL.ExecContext(ctx, copyRow, claimed[0], "snd_twin")
		if !db.IsUniqueViolation(err) {
			t.Fatalf("a second open send for the same campaign, step and prospect: %v", err)
		}
		// A cancelled attempt does not hold the slot.
		if _, err := e.d.SQL.ExecContext(ctx, `UPDATE sends SET state = 'cancelled', error = 'test', finished_at = claimed_at WHERE id = $1`,
			claimed[0]); err != nil {
			t.Fatalf("cancelling: %v", err)
		}
		if _, err := e.d.SQL.ExecContext(ctx, copyRow, claimed[0], "snd_retry"); err != nil {
			t.Fatalf("a new attempt after a cancelled one: %v", err)
		}
	})
}
