package conformance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/workspace"
)

// ExerciseAccounts runs the account-state exercises against databases made
// by newDB: the database rules on linkedin_accounts, the state flip and its
// audit chain, alerts, migrations, the random-operations property test and
// the split-state repair.
func ExerciseAccounts(ctx context.Context, t *testing.T, newDB NewDB) {
	t.Run("RawStatusUpdateFails", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t, newDB)
		a := b.newAccount(t, account.StatusConnected)
		_, err := b.db.SQL.ExecContext(b.ctx,
			`UPDATE linkedin_accounts SET status = 'disconnected', disconnected_at = $2, last_error = 'x' WHERE id = $1`,
			a.ID, b.clock.Now())
		mustFail(t, err, "account.Flip")
		got, _ := b.accounts.Get(b.ctx, b.db.SQL, "", a.ID)
		if got.Status != account.StatusConnected {
			t.Fatalf("status changed to %s despite the refusal", got.Status)
		}
	})

	t.Run("RawSplitStateWriteFailsNamingConstraint", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t, newDB)
		a := b.newAccount(t, account.StatusConnected)
		_, err := b.db.SQL.ExecContext(b.ctx, `UPDATE linkedin_accounts SET last_error = $2 WHERE id = $1`,
			a.ID, "Account no longer registered with Unipile — please reconnect")
		mustFail(t, err, "linkedin_accounts_no_split_state_chk")
		_, err = b.db.SQL.ExecContext(b.ctx, `
			INSERT INTO linkedin_accounts (id, workspace_id, provider_account_id, status, last_error, created_at, updated_at)
			VALUES ('acc_raw', $1, 'raw-1', 'connected', 'Account not found. Please Reconnect.', $2, $2)`,
			b.ws.ID, b.clock.Now())
		mustFail(t, err, "linkedin_accounts_no_split_state_chk")
	})

	t.Run("RawWriteBreakingConnectedIffNotDisconnectedFails", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t, newDB)
		conn := b.newAccount(t, account.StatusConnected)
		disc := b.newAccount(t, account.StatusDisconnected)
		_, err := b.db.SQL.ExecContext(b.ctx, `UPDATE linkedin_accounts SET disconnected_at = $2 WHERE id = $1`, conn.ID, b.clock.Now())
		mustFail(t, err, "linkedin_accounts_connected_iff_not_disconnected_chk")
		_, err = b.db.SQL.ExecContext(b.ctx, `UPDATE linkedin_accounts SET disconnected_at = NULL WHERE id = $1`, disc.ID)
		mustFail(t, err, "linkedin_accounts_connected_iff_not_disconnected_chk")
		_, err = b.db.SQL.ExecContext(b.ctx, `
			INSERT INTO linkedin_accounts (id, workspace_id, provider_account_id, status, disconnected_at, created_at, updated_at)
			VALUES ('acc_raw2', $1, 'raw-2', 'connected', $2, $2, $2)`, b.ws.ID, b.clock.Now())
		mustFail(t, err, "linkedin_accounts_connected_iff_not_disconnected_chk")
		_, err = b.db.SQL.ExecContext(b.ctx, `
			INSERT INTO linkedin_accounts (id, workspace_id, provider_account_id, status, created_at, updated_at)
			VALUES ('acc_raw3', $1, 'raw-3', 'error', $2, $2)`, b.ws.ID, b.clock.Now())
		mustFail(t, err, "linkedin_accounts_connected_iff_not_disconnected_chk")
		_, err = b.db.SQL.ExecContext(b.ctx, `UPDATE linkedin_accounts SET cap_invite_daily = 31 WHERE id = $1`, conn.ID)
		mustFail(t, err, "linkedin_accounts_cap_invite_daily_chk")
		_, err = b.db.SQL.ExecContext(b.ctx, `UPDATE linkedin_accounts SET cap_inmail_daily = 1 WHERE id = $1`, conn.ID)
		mustFail(t, err, "linkedin_accounts_cap_inmail_daily_chk")
		_, err = b.db.SQL.ExecContext(b.ctx, `UPDATE linkedin_accounts SET window_start = 600, window_end = 600 WHERE id = $1`, conn.ID)
		mustFail(t, err, "linkedin_accounts_window_chk")
		_, err = b.db.SQL.ExecContext(b.ctx, `UPDATE linkedin_accounts SET disconnected_by = 'operator' WHERE id = $1`, conn.ID)
		mustFail(t, err, "linkedin_accounts_disconnected_by_chk")
		// Even together with a properly audited raw flip, the columns must
		// stay together.
		err = rawTx(b.ctx, b.db,
			exec(`INSERT INTO linkedin_account_status_audit (account_id, from_status, to_status, reason, source, created_at)
			      VALUES ($1, 'disconnected', 'connected', 'raw', 'webhook', $2)`, disc.ID, b.clock.Now()),
			exec(`UPDATE linkedin_accounts SET disconnected_at = $2 WHERE id = $1`, disc.ID, b.clock.Now()))
		mustFail(t, err, "linkedin_accounts_connected_iff_not_disconnected_chk")
	})

	t.Run("RawPendingAndWithdrawSettingsOutOfRangeFail", func(t *testing.T) {
		t.Parallel()
		// docs/sending.md#pending-invitations, docs/sending.md#withdrawals:
		// the database holds the same bounds as the settings code.
		b := setup(ctx, t, newDB)
		a := b.newAccount(t, account.StatusConnected)
		set := func(column string, v int) error {
			_, err := b.db.SQL.ExecContext(b.ctx, `UPDATE linkedin_accounts SET `+column+` = $2 WHERE id = $1`, a.ID, v)
			return err
		}
		for _, c := range []struct {
			column     string
			value      int
			constraint string
		}{
			{"cap_invite_pending", account.PendingCeiling + 1, "linkedin_accounts_cap_invite_pending_chk"},
			{"cap_invite_pending", -1, "linkedin_accounts_cap_invite_pending_chk"},
			{"cap_withdraw_daily", account.WithdrawCeiling + 1, "linkedin_accounts_cap_withdraw_daily_chk"},
			{"cap_withdraw_daily", -1, "linkedin_accounts_cap_withdraw_daily_chk"},
			{"withdraw_after_days", 3, "linkedin_accounts_withdraw_after_days_chk"},
			{"withdraw_after_days", account.MinWithdrawAfterDays - 1, "linkedin_accounts_withdraw_after_days_chk"},
			{"withdraw_after_days", account.MaxWithdrawAfterDays + 1, "linkedin_accounts_withdraw_after_days_chk"},
			{"withdraw_after_days", -1, "linkedin_accounts_withdraw_after_days_chk"},
		} {
			if err := set(c.column, c.value); !db.ViolatesConstraint(err, c.constraint) {
				t.Errorf("%s = %d: expected a refusal naming %s, got %v", c.column, c.value, c.constraint, err)
			}
		}
		_, err := b.db.SQL.ExecContext(b.ctx, `
			INSERT INTO linkedin_accounts (id, workspace_id, provider_account_id, status, created_at, updated_at, cap_invite_pending)
			VALUES ('acc_raw_pending', $1, 'raw-pending', 'connected', $2, $2, 701)`, b.ws.ID, b.clock.Now())
		mustFail(t, err, "linkedin_accounts_cap_invite_pending_chk")
		got, err := b.accounts.Get(b.ctx, b.db.SQL, "", a.ID)
		if err != nil || got.Caps.InvitePending != account.DefaultCaps.InvitePending || got.Caps.WithdrawDaily != account.DefaultCaps.WithdrawDaily ||
			got.WithdrawAfterDays != account.DefaultWithdrawAfterDays {
			t.Fatalf("after the refusals: %v %+v, want the defaults", err, got)
		}
		// The bounds themselves are allowed.
		for _, c := range []struct {
			column string
			value  int
		}{
			{"cap_invite_pending", account.PendingCeiling}, {"cap_invite_pending", 0},
			{"cap_withdraw_daily", account.WithdrawCeiling}, {"cap_withdraw_daily", 0},
			{"withdraw_after_days", 0}, {"withdraw_after_days", account.MinWithdrawAfterDays},
			{"withdraw_after_days", account.MaxWithdrawAfterDays},
		} {
			if err := set(c.column, c.value); err != nil {
				t.Errorf("%s = %d refused: %v", c.column, c.value, err)
			}
		}
	})

	t.Run("CopyVocabularyAgreesWithCheckBothWays", func(t *testing.T) { t.Parallel(); testCopyVocabulary(ctx, t, newDB) })
	t.Run("FlipWritesAuditAndColumnsTogether", func(t *testing.T) { t.Parallel(); testFlip(ctx, t, newDB) })
	t.Run("FlipRefusalsAreTyped", func(t *testing.T) { t.Parallel(); testFlipRefusals(ctx, t, newDB) })
	t.Run("ConsequencesShareTheFlipTransaction", func(t *testing.T) { t.Parallel(); testConsequences(ctx, t, newDB) })
	t.Run("EvidenceOfAWorkingAccountRunsConfirmations", func(t *testing.T) { t.Parallel(); testConfirmConnected(ctx, t, newDB) })
	t.Run("AuditTrailCannotBeForged", func(t *testing.T) { t.Parallel(); testAuditAttacks(ctx, t, newDB) })
	t.Run("SoftUpdatesKeepStatus", func(t *testing.T) { t.Parallel(); testSoftUpdates(ctx, t, newDB) })
	t.Run("AlertsDedupeAndAcknowledge", func(t *testing.T) { t.Parallel(); testAlerts(ctx, t, newDB) })
	t.Run("MigrateTwiceIsANoOp", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t, newDB)
		rep, err := b.db.Migrate(b.ctx)
		if err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		if len(rep.Applied) != 0 {
			t.Fatalf("second migrate applied %v", rep.Applied)
		}
		pending, err := b.db.Pending(b.ctx)
		if err != nil || pending {
			t.Fatalf("pending after migrate: %v %v", pending, err)
		}
	})
	t.Run("PropertyRandomOperations", func(t *testing.T) { t.Parallel(); testProperty(ctx, t, newDB) })
	t.Run("RepairSplitState", func(t *testing.T) { t.Parallel(); testRepair(ctx, t, newDB) })
}

func testCopyVocabulary(ctx context.Context, t *testing.T, newDB NewDB) {
	b := setup(ctx, t, newDB)
	a := b.newAccount(t, account.StatusConnected)
	accepts := func(text string) bool {
		_, err := b.db.SQL.ExecContext(b.ctx, `UPDATE linkedin_accounts SET last_error = $2 WHERE id = $1`, a.ID, text)
		if err != nil && !db.ViolatesConstraint(err, "linkedin_accounts_no_split_state_chk") {
			t.Fatalf("unexpected error writing copy %q: %v", text, err)
		}
		return err == nil
	}
	for _, e := range account.Vocabulary() {
		if got := e.Copy.Terminal(); got != e.WantTerminal {
			t.Errorf("copy %s: Terminal() = %v, want %v", e.Copy.Code, got, e.WantTerminal)
		}
		if accepts(e.Copy.Text) == e.WantTerminal {
			t.Errorf("copy %s (terminal=%v): the database disagrees: %q", e.Copy.Code, e.WantTerminal, e.Copy.Text)
		}
	}
	// Every pattern Go knows is in the CHECK, in any letter case...
	for _, p := range account.TerminalPatterns {
		phrase := strings.ReplaceAll(strings.Trim(p, "%"), "%", " xyz ")
		for _, text := range []string{phrase, strings.ToUpper(phrase), "Note: " + strings.ToUpper(phrase[:1]) + phrase[1:] + "."} {
			if accepts(text) {
				t.Errorf("the CHECK accepts terminal phrase %q on a connected row", text)
			}
			if !account.IsTerminal(text) {
				t.Errorf("IsTerminal(%q) = false", text)
			}
		}
	}
	// ...and Go and the database agree on near misses and mixtures.
	samples := []string{
		"", "reconnect", "Please re-connect", "account not found", "account not found; retrying",
		"not registered", "no longer registred", "Reconnect: needed", "credentials", "expired credentials",
		"Account not found — reconnect", "Unipile temporarily unreachable (HTTP 404, strike 2/3). Auto-retry; account remains connected.",
		"must be connected", "connected again", "RECONNECT REQUIRED", "reconnect  needed",
	}
	for _, s := range samples {
		dbTerminal := !accepts(s)
		if dbTerminal != account.IsTerminal(s) {
			t.Errorf("disagreement on %q: database terminal=%v, Go terminal=%v", s, dbTerminal, account.IsTerminal(s))
		}
	}
}

func testFlip(ctx context.Context, t *testing.T, newDB NewDB) {
	b := setup(ctx, t, newDB)
	a := b.newAccount(t, account.StatusConnecting)
	if a.DisconnectedAt == nil || !a.DisconnectedAt.Equal(Start) {
		t.Fatalf("a never-connected account must carry its creation time as disconnected_at, got %v", a.DisconnectedAt)
	}
	b.clock.Advance(time.Minute)
	f, err := b.accounts.Flip(b.ctx, account.FlipRequest{AccountID: a.ID, To: account.StatusConnected,
		Reason: "provider reports OK", Source: account.SourceHostedAuth, Actor: "system"})
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	if f.After.DisconnectedAt != nil || f.After.DisconnectedBy != "" || f.After.LastError != "" {
		t.Fatalf("connected account kept disconnect markers: %+v", f.After)
	}
	b.clock.Advance(time.Minute)
	strikes := 3
	f, err = b.accounts.Flip(b.ctx, account.FlipRequest{AccountID: a.ID, To: account.StatusDisconnected,
		Copy: copyPtr(account.TerminalNotRegistered()), Reason: "third 404", Source: account.SourceHealthCheck,
		Actor: "health", Strikes: &strikes})
	if err != nil {
		t.Fatalf("disconnecting: %v", err)
	}
	got, err := b.accounts.Get(b.ctx, b.db.SQL, b.ws.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != account.StatusDisconnected || got.DisconnectedAt == nil || !got.DisconnectedAt.Equal(b.clock.Now()) ||
		got.DisconnectedBy != "health_check" || got.Strikes != 3 || !got.ReconnectNeeded() || !got.LastErrorTerminal() {
		t.Fatalf("stored account after disconnect: %+v", got)
	}
	// Back to connected: markers and strikes cleared together.
	b.clock.Advance(time.Minute)
	if _, err := b.accounts.Flip(b.ctx, account.FlipRequest{AccountID: a.ID, To: account.StatusConnected,
		Reason: "RECONNECTED", Source: account.SourceWebhook}); err != nil {
		t.Fatalf("reconnecting: %v", err)
	}
	got, _ = b.accounts.Get(b.ctx, b.db.SQL, "", a.ID)
	if got.Status != account.StatusConnected || got.Strikes != 0 || got.DisconnectedAt != nil || got.LastError != "" {
		t.Fatalf("after reconnect: %+v", got)
	}
	trail, err := b.accounts.Audit(b.ctx, b.db.SQL, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ from, to account.Status }{
		{"", account.StatusConnecting}, {account.StatusConnecting, account.StatusConnected},
		{account.StatusConnected, account.StatusDisconnected}, {account.StatusDisconnected, account.StatusConnected},
	}
	if len(trail) != len(want) {
		t.Fatalf("audit has %d rows, want %d: %+v", len(trail), len(want), trail)
	}
	for i, w := range want {
		if trail[i].From != w.from || trail[i].To != w.to {
			t.Fatalf("audit row %d: %s -> %s, want %s -> %s", i, trail[i].From, trail[i].To, w.from, w.to)
		}
	}
	if trail[2].Reason != "third 404" || trail[2].Source != "health_check" || trail[2].Actor != "health" || trail[2].Strikes != 3 ||
		trail[2].LastError != account.TerminalNotRegistered().Text || trail[3].LastError != "" {
		t.Fatalf("audit row does not carry the flip's details: %+v", trail[2])
	}
}

func testFlipRefusals(ctx context.Context, t *testing.T, newDB NewDB) {
	b := setup(ctx, t, newDB)
	a := b.newAccount(t, account.StatusConnected)
	r := b.newAccount(t, account.StatusRestricted)
	other, err := workspace.Create(b.ctx, b.db.SQL, "other", "", b.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		req  account.FlipRequest
		want error
	}{
		{"same status", account.FlipRequest{AccountID: a.ID, To: account.StatusConnected, Reason: "x", Source: account.SourceWebhook}, account.ErrAlreadyInStatus},
		{"operator cannot connect", account.FlipRequest{AccountID: r.ID, To: account.StatusConnected, Reason: "x", Source: account.SourceOperator}, account.ErrSourceNotAllowed},
		{"repair only disconnects", account.FlipRequest{AccountID: a.ID, To: account.StatusError, Copy: copyPtr(account.SoftUnreachable("2h")), Reason: "x", Source: account.SourceRepair}, account.ErrSourceNotAllowed},
		{"restricted never goes back to connecting", account.FlipRequest{AccountID: r.ID, To: account.StatusConnecting, Reason: "x", Source: account.SourceWebhook}, account.ErrTransitionNotAllowed},
		{"leaving connected needs copy", account.FlipRequest{AccountID: a.ID, To: account.StatusDisconnected, Reason: "x", Source: account.SourceWebhook}, account.ErrCopyNotAllowed},
		{"terminal copy on connected", account.FlipRequest{AccountID: r.ID, To: account.StatusConnected, Copy: copyPtr(account.TerminalCredentials()), Reason: "x", Source: account.SourceWebhook}, account.ErrCopyNotAllowed},
		{"stale expectation", account.FlipRequest{AccountID: a.ID, To: account.StatusError, Copy: copyPtr(account.SoftUnreachable("2h")), Reason: "x", Source: account.SourceHealthCheck, ExpectFrom: account.StatusError}, account.ErrStale},
		{"unknown account", account.FlipRequest{AccountID: "acc_missing", To: account.StatusError, Reason: "x", Source: account.SourceHealthCheck}, account.ErrNotFound},
		{"other workspace", account.FlipRequest{AccountID: a.ID, WorkspaceID: other.ID, To: account.StatusDisconnected, Copy: copyPtr(account.TerminalOperator()), Reason: "x", Source: account.SourceOperator}, account.ErrNotFound},
		{"unknown status", account.FlipRequest{AccountID: a.ID, To: "paused", Reason: "x", Source: account.SourceWebhook}, account.ErrInvalidRequest},
		{"no reason", account.FlipRequest{AccountID: a.ID, To: account.StatusError, Source: account.SourceWebhook}, account.ErrInvalidRequest},
	}
	for _, c := range cases {
		_, err := b.accounts.Flip(b.ctx, c.req)
		var te *account.TransitionError
		if !errors.Is(err, c.want) || !errors.As(err, &te) {
			t.Errorf("%s: got %v, want a TransitionError wrapping %v", c.name, err, c.want)
		}
	}
	for _, id := range []string{a.ID, r.ID} {
		trail, _ := b.accounts.Audit(b.ctx, b.db.SQL, id)
		if len(trail) != 1 {
			t.Errorf("refused flips left audit rows on %s: %+v", id, trail)
		}
	}
}

func testConsequences(ctx context.Context, t *testing.T, newDB NewDB) {
	b := setup(ctx, t, newDB)
	a := b.newAccount(t, account.StatusConnected)
	fail := true
	var seen []account.Status
	b.accounts.OnFlip("record", func(ctx context.Context, tx *sql.Tx, f account.Flipped) error {
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM linkedin_accounts WHERE id = $1`, f.After.ID).Scan(&status); err != nil {
			return err
		}
		seen = append(seen, account.Status(status))
		if _, _, err := alert.Raise(ctx, tx, f.At, alert.New{Kind: "flip_seen", Message: "flipped",
			SubjectType: "account", SubjectID: f.After.ID}); err != nil {
			return err
		}
		if fail {
			return errors.New("consequence failed")
		}
		return nil
	})
	req := account.FlipRequest{AccountID: a.ID, To: account.StatusDisconnected, Copy: copyPtr(account.TerminalCredentials()),
		Reason: "CREDENTIALS", Source: account.SourceWebhook}
	if _, err := b.accounts.Flip(b.ctx, req); err == nil {
		t.Fatal("a failing consequence must fail the flip")
	}
	got, _ := b.accounts.Get(b.ctx, b.db.SQL, "", a.ID)
	alerts, _ := alert.List(b.ctx, b.db.SQL, alert.Filter{Kind: "flip_seen"})
	trail, _ := b.accounts.Audit(b.ctx, b.db.SQL, a.ID)
	if got.Status != account.StatusConnected || len(alerts) != 0 || len(trail) != 1 {
		t.Fatalf("failed consequence left traces: status %s, %d alerts, %d audit rows", got.Status, len(alerts), len(trail))
	}
	fail = false
	if _, err := b.accounts.Flip(b.ctx, req); err != nil {
		t.Fatal(err)
	}
	alerts, _ = alert.List(b.ctx, b.db.SQL, alert.Filter{Kind: "flip_seen"})
	if len(alerts) != 1 || len(seen) != 2 || seen[1] != account.StatusDisconnected {
		t.Fatalf("consequence did not see the flipped row or its write was lost: seen %v, %d alerts", seen, len(alerts))
	}
}

func testAuditAttacks(ctx context.Context, t *testing.T, newDB NewDB) {
	b := setup(ctx, t, newDB)
	a := b.newAccount(t, account.StatusConnected)
	now := b.clock.Now()
	insertAudit := func(from, to string) func(tx *sql.Tx) error {
		return exec(`INSERT INTO linkedin_account_status_audit (account_id, from_status, to_status, reason, source, created_at, last_error)
		             VALUES ($1, $2, $3, 'raw', 'health_check', $4, 'raw')`, a.ID, from, to, now)
	}
	setDisconnected := exec(`UPDATE linkedin_accounts SET status = 'disconnected', disconnected_at = $2, last_error = 'raw' WHERE id = $1`, a.ID, now)

	// An audit row is the flip: inserting one by hand moves the account
	// (with the disconnect markers account.Flip would set), so no audit row
	// can describe a flip that did not happen.
	other := b.newAccount(t, account.StatusConnected)
	if err := rawTx(b.ctx, b.db, exec(`INSERT INTO linkedin_account_status_audit (account_id, from_status, to_status, reason, source, created_at, last_error)
		VALUES ($1, 'connected', 'disconnected', 'raw', 'operator', $2, 'Disconnected by hand — please reconnect.')`, other.ID, now)); err != nil {
		t.Fatalf("a hand-written audit row was refused: %v", err)
	}
	if got, _ := b.accounts.Get(b.ctx, b.db.SQL, "", other.ID); got.Status != account.StatusDisconnected ||
		got.DisconnectedAt == nil || !got.DisconnectedAt.Equal(now) || got.DisconnectedBy != "operator" {
		t.Fatalf("a hand-written audit row was not applied as a flip: %+v", got)
	}
	// A status change with no audit row is refused, however it is written.
	mustFail(t, rawTx(b.ctx, b.db, setDisconnected), "account.Flip")
	mustFail(t, rawTx(b.ctx, b.db, exec(`UPDATE linkedin_accounts SET status = 'connected', disconnected_at = NULL,
		disconnected_by = NULL, last_error = NULL WHERE id = $1`, other.ID)), "account.Flip")
	// An audit row for another transition does not pair.
	mustFail(t, rawTx(b.ctx, b.db, insertAudit("connected", "error"), setDisconnected), "account.Flip")
	// An audit row that starts elsewhere than the account's status is refused.
	mustFail(t, rawTx(b.ctx, b.db, insertAudit("error", "disconnected")), "linkedin_account_status_audit")
	// A second creation row is refused.
	mustFail(t, rawTx(b.ctx, b.db, exec(`INSERT INTO linkedin_account_status_audit (account_id, from_status, to_status, reason, source, created_at)
		VALUES ($1, NULL, 'connected', 'raw', 'operator', $2)`, a.ID, now)), "linkedin_account_status_audit")
	// One audit row pairs with one update only.
	mustFail(t, rawTx(b.ctx, b.db, insertAudit("connected", "disconnected"), setDisconnected,
		exec(`UPDATE linkedin_accounts SET status = 'connected', disconnected_at = NULL, last_error = NULL WHERE id = $1`, a.ID),
		setDisconnected), "account.Flip")
	// The trail is append-only.
	mustFail(t, rawTx(b.ctx, b.db, exec(`DELETE FROM linkedin_account_status_audit WHERE account_id = $1`, a.ID)), "append")
	mustFail(t, rawTx(b.ctx, b.db, exec(`UPDATE linkedin_account_status_audit SET reason = 'edited' WHERE account_id = $1`, a.ID)), "append")
	// A hand-made audit row plus update in one transaction is a real,
	// audited flip: the database accepts it and the chain holds.
	if err := rawTx(b.ctx, b.db, insertAudit("connected", "disconnected"), setDisconnected); err != nil {
		t.Fatalf("a paired raw flip was refused: %v", err)
	}
	checkChains(t, b.ctx, b.db)
}

func testConfirmConnected(ctx context.Context, t *testing.T, newDB NewDB) {
	b := setup(ctx, t, newDB)
	var seen []string
	b.accounts.OnConfirmedConnected("record", func(ctx context.Context, tx *sql.Tx, accountID string, at time.Time) error {
		if !at.Equal(b.clock.Now()) {
			t.Errorf("confirmation at %v, want %v", at, b.clock.Now())
		}
		seen = append(seen, accountID)
		return nil
	})
	confirm := func(id string) {
		t.Helper()
		if err := b.db.InTx(b.ctx, func(tx *sql.Tx) error { return b.accounts.ConfirmConnectedTx(b.ctx, tx, id) }); err != nil {
			t.Fatal(err)
		}
	}
	// A connected account with strikes and soft copy: cleared, confirmed.
	a := b.newAccount(t, account.StatusConnected)
	soft := account.Soft404(2)
	if err := b.db.InTx(b.ctx, func(tx *sql.Tx) error {
		_, err := b.accounts.UpdateSoft(b.ctx, tx, account.SoftUpdate{AccountID: a.ID, Copy: &soft, Strikes: 2})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	confirm(a.ID)
	got, _ := b.accounts.Get(b.ctx, b.db.SQL, "", a.ID)
	if got.Strikes != 0 || got.LastError != "" || got.Status != account.StatusConnected || len(seen) != 1 || seen[0] != a.ID {
		t.Fatalf("after confirmation: %+v, confirmations %v", got, seen)
	}
	// An account that is not connected is left alone.
	d := b.newAccount(t, account.StatusDisconnected)
	confirm(d.ID)
	if len(seen) != 1 {
		t.Fatalf("a disconnected account was confirmed: %v", seen)
	}
	// A flip to connected confirms too.
	if _, err := b.accounts.Flip(b.ctx, account.FlipRequest{AccountID: d.ID, To: account.StatusConnected,
		Reason: "check ok", Source: account.SourceHealthCheck}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[1] != d.ID {
		t.Fatalf("a flip to connected ran no confirmation: %v", seen)
	}
}

func testSoftUpdates(ctx context.Context, t *testing.T, newDB NewDB) {
	b := setup(ctx, t, newDB)
	a := b.newAccount(t, account.StatusConnected)
	for strike := 1; strike <= 2; strike++ {
		c := account.Soft404(strike)
		err := b.db.InTx(b.ctx, func(tx *sql.Tx) error {
			_, err := b.accounts.UpdateSoft(b.ctx, tx, account.SoftUpdate{AccountID: a.ID, Copy: &c, Strikes: strike, ExpectStatus: account.StatusConnected})
			return err
		})
		if err != nil {
			t.Fatalf("strike %d: %v", strike, err)
		}
	}
	got, _ := b.accounts.Get(b.ctx, b.db.SQL, "", a.ID)
	if got.Status != account.StatusConnected || got.Strikes != 2 || got.LastErrorTerminal() || !strings.Contains(got.LastError, "strike 2/3") {
		t.Fatalf("after two strikes: %+v", got)
	}
	err := b.db.InTx(b.ctx, func(tx *sql.Tx) error {
		c := account.TerminalNotRegistered()
		_, err := b.accounts.UpdateSoft(b.ctx, tx, account.SoftUpdate{AccountID: a.ID, Copy: &c, Strikes: 3})
		return err
	})
	if !errors.Is(err, account.ErrCopyNotAllowed) {
		t.Fatalf("terminal copy through UpdateSoft on a connected account: got %v", err)
	}
	// Becoming connected with strikes left over is refused by the database.
	dis := b.newAccount(t, account.StatusDisconnected)
	err = rawTx(b.ctx, b.db,
		exec(`INSERT INTO linkedin_account_status_audit (account_id, from_status, to_status, reason, source, strikes, created_at)
		      VALUES ($1, 'disconnected', 'connected', 'raw', 'webhook', 2, $2)`, dis.ID, b.clock.Now()))
	mustFail(t, err, "strikes")
}

func testAlerts(ctx context.Context, t *testing.T, newDB NewDB) {
	b := setup(ctx, t, newDB)
	n := alert.New{Kind: alert.KindMass404Burst, Severity: alert.Critical, Message: "burst", DedupeKey: "burst"}
	first, created, err := alert.Raise(b.ctx, b.db.SQL, b.clock.Now(), n)
	if err != nil || !created {
		t.Fatalf("first raise: %v %v", created, err)
	}
	for i := 0; i < 5; i++ {
		b.clock.Advance(time.Minute)
		again, created, err := alert.Raise(b.ctx, b.db.SQL, b.clock.Now(), n)
		if err != nil || created || again != first {
			t.Fatalf("re-raise %d: id %s created %v err %v", i, again, created, err)
		}
	}
	open, _ := alert.List(b.ctx, b.db.SQL, alert.Filter{OpenOnly: true})
	if len(open) != 1 || open[0].Occurrences != 6 || !open[0].LastSeenAt.Equal(b.clock.Now()) {
		t.Fatalf("open alerts: %+v", open)
	}
	acked, err := alert.Acknowledge(b.ctx, b.db.SQL, b.clock.Now(), first, "", "ops@example.com")
	if err != nil || acked.AcknowledgedAt == nil {
		t.Fatalf("acknowledge: %+v %v", acked, err)
	}
	second, created, err := alert.Raise(b.ctx, b.db.SQL, b.clock.Now(), n)
	if err != nil || !created || second == first {
		t.Fatalf("after acknowledge a recurrence opens a new alert: %s %v %v", second, created, err)
	}
	// Workspace scoping: another workspace cannot see or acknowledge ours.
	other, _ := workspace.Create(b.ctx, b.db.SQL, "other", "", b.clock.Now())
	mine, _, err := alert.Raise(b.ctx, b.db.SQL, b.clock.Now(), alert.New{WorkspaceID: b.ws.ID, Kind: alert.KindStuckConnecting, Message: "stuck", SubjectType: "account", SubjectID: "acc_x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alert.Acknowledge(b.ctx, b.db.SQL, b.clock.Now(), mine, other.ID, "x"); !errors.Is(err, alert.ErrNotFound) {
		t.Fatalf("another workspace acknowledged our alert: %v", err)
	}
	list, _ := alert.List(b.ctx, b.db.SQL, alert.Filter{WorkspaceID: other.ID})
	for _, a := range list {
		if a.ID == mine {
			t.Fatal("another workspace lists our alert")
		}
	}
	_, err = b.db.SQL.ExecContext(b.ctx, `INSERT INTO admin_alerts (id, kind, severity, message, dedupe_key, created_at, last_seen_at)
		VALUES ('alr_dup', 'k', 'warning', 'm', 'burst', $1, $1)`, b.clock.Now())
	if !db.IsUniqueViolation(err) {
		t.Fatalf("a second open alert with the same dedupe key must be refused by the unique index, got %v", err)
	}
}

// checkChains verifies every invariant over the whole table: the CHECKs
// (re-evaluated in SQL) and, per account, an unbroken audit chain ending at
// the current status.
func checkChains(t *testing.T, ctx context.Context, d *db.DB) {
	t.Helper()
	if v := violations(t, ctx, d); len(v) > 0 {
		t.Fatalf("invariant violations: %v", v)
	}
}

func violations(t *testing.T, ctx context.Context, d *db.DB) []string {
	t.Helper()
	var out []string
	var n int
	if err := d.SQL.QueryRowContext(ctx, `SELECT count(*) FROM linkedin_accounts
		WHERE (status = 'connected') <> (disconnected_at IS NULL)
		   OR (status = 'connected' AND disconnected_by IS NOT NULL)
		   OR (status = 'connected' AND strikes <> 0 AND last_error IS NULL AND 1 = 0)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		out = append(out, fmt.Sprintf("%d rows break connected iff not disconnected", n))
	}
	rows, err := d.SQL.QueryContext(ctx, `SELECT id, status, COALESCE(last_error, '') FROM linkedin_accounts ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	current := map[string]string{}
	for rows.Next() {
		var id, status, lastErr string
		if err := rows.Scan(&id, &status, &lastErr); err != nil {
			t.Fatal(err)
		}
		current[id] = status
		if status == "connected" && account.IsTerminal(lastErr) {
			out = append(out, "split state on "+id)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("reading accounts: %v", err)
	}
	rows.Close()
	rows, err = d.SQL.QueryContext(ctx, `SELECT account_id, COALESCE(from_status, ''), to_status FROM linkedin_account_status_audit ORDER BY account_id, id`)
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]string{}
	for rows.Next() {
		var id, from, to string
		if err := rows.Scan(&id, &from, &to); err != nil {
			t.Fatal(err)
		}
		prev, seen := last[id]
		switch {
		case !seen && from != "":
			out = append(out, fmt.Sprintf("account %s: first audit row starts at %q, not creation", id, from))
		case seen && from != prev:
			out = append(out, fmt.Sprintf("account %s: broken chain %s then %s -> %s", id, prev, from, to))
		}
		last[id] = to
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("reading the audit trail: %v", err)
	}
	rows.Close()
	for id, status := range current {
		if last[id] != status {
			out = append(out, fmt.Sprintf("account %s: trail ends at %q, status is %q", id, last[id], status))
		}
	}
	return out
}
