package connect_test

import (
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/connect"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// TestFailedReconnectsAreRecorded: a reconnect link that expires unused,
// and a callback that reports a failure, are each recorded once in the
// account's failed reconnects with an alert while the account is not
// connected; the account's status and audit trail do not move; a link
// abandoned before a reconnect that worked is not a failure
// (docs/accounts.md#failed-reconnects).
func TestFailedReconnectsAreRecorded(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		pid := e.fake.AddAccount(fake.AccountSpec{Name: "Ada", Status: "CREDENTIALS"})
		a := e.create(t, e.ws, pid, account.StatusConnected)
		terminal := account.TerminalCredentials()
		if _, err := e.accounts.Flip(e.ctx, account.FlipRequest{AccountID: a.ID, To: account.StatusDisconnected,
			Copy: &terminal, Reason: "credentials", Source: account.SourceWebhook}); err != nil {
			t.Fatal(err)
		}
		auditBefore := e.count(t, `SELECT count(*) FROM linkedin_account_status_audit WHERE account_id = $1`, a.ID)

		// A callback reporting a failure.
		wizard, err := e.svc.ReconnectLink(e.ctx, e.ws.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		l := e.link(t, wizard)
		for range 2 {
			if code := e.postCallback(t, l.NotifyURL, `{"status":"FAILED","account_id":"`+pid+`","name":"`+l.Name+`"}`); code != 200 {
				t.Fatalf("failure callback: %d", code)
			}
		}
		fs, err := connect.Failures(e.ctx, d.SQL, a.ID)
		if err != nil || len(fs) != 1 || fs[0].Kind != connect.FailureReported || fs[0].Detail != "Unipile reported FAILED" {
			t.Fatalf("after the failure callback (twice): %+v %v", fs, err)
		}
		alerts := e.count(t, `SELECT count(*) FROM admin_alerts WHERE kind = 'reconnect_failed' AND subject_id = $1 AND acknowledged_at IS NULL`, a.ID)
		if alerts != 1 {
			t.Fatalf("open reconnect-failed alerts: %d", alerts)
		}

		// The database holds the kinds, the detail and one row per link.
		for name, q := range map[string]string{
			"bad kind":  `INSERT INTO hosted_auth_failures (link_id, workspace_id, account_id, kind, detail, created_at) VALUES ($1, $2, $3, 'odd', 'x', $4)`,
			"no detail": `INSERT INTO hosted_auth_failures (link_id, workspace_id, account_id, kind, detail, created_at) VALUES ($1, $2, $3, 'expired', '', $4)`,
			"twice":     `INSERT INTO hosted_auth_failures (link_id, workspace_id, account_id, kind, detail, created_at) VALUES ($1, $2, $3, 'expired', 'x', $4)`,
		} {
			if _, err := d.SQL.ExecContext(e.ctx, q, fs[0].LinkID, e.ws.ID, a.ID, e.clock.Now()); err == nil {
				t.Errorf("%s: the database accepted a broken failure row", name)
			}
		}

		// The same link, then expired unused: already recorded, not again.
		// A second link expires unused: recorded as expired.
		if _, err := e.svc.ReconnectLink(e.ctx, e.ws.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(3 * time.Hour)
		n, err := e.svc.RecordAbandoned(e.ctx)
		if err != nil || n != 1 {
			t.Fatalf("RecordAbandoned: %d %v", n, err)
		}
		if n, err := e.svc.RecordAbandoned(e.ctx); err != nil || n != 0 {
			t.Fatalf("RecordAbandoned again: %d %v", n, err)
		}
		fs, _ = connect.Failures(e.ctx, d.SQL, a.ID)
		if len(fs) != 2 || fs[0].Kind != connect.FailureExpired {
			t.Fatalf("failures: %+v", fs)
		}
		if got := e.get(t, a.ID); got.Status != account.StatusDisconnected {
			t.Fatalf("status moved: %s", got.Status)
		}
		if n := e.count(t, `SELECT count(*) FROM linkedin_account_status_audit WHERE account_id = $1`, a.ID); n != auditBefore {
			t.Fatalf("audit rows: %d, want %d", n, auditBefore)
		}

		// A link left unused, then a reconnect that works: the unused one
		// is not a failure.
		if _, err := e.svc.ReconnectLink(e.ctx, e.ws.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		wizard, err = e.svc.ReconnectLink(e.ctx, e.ws.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.fake.CompleteHostedAuth(fake.TokenFromURL(wizard), true); err != nil {
			t.Fatal(err)
		}
		e.waitIdle(t)
		e.clock.Advance(3 * time.Hour)
		if n, err := e.svc.RecordAbandoned(e.ctx); err != nil || n != 0 {
			t.Fatalf("RecordAbandoned after a reconnect that worked: %d %v", n, err)
		}
	})
}
