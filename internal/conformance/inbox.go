package conformance

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/webhook"
)

// ExerciseInbox runs the webhook inbox's rules against databases made by
// newDB: one delivery repeated is one row and one effect, and a stored
// payload cannot be rewritten. The webhook package's own tests cover every
// event and the inbox's other rules on both engines.
func ExerciseInbox(ctx context.Context, t *testing.T, newDB NewDB) {
	t.Run("RepeatedDeliveryHasOneEffect", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t, newDB)
		a := b.newAccount(t, account.StatusConnected)
		const secret = "conformance-webhook-secret"
		rc, err := webhook.NewReceiver(webhook.Options{DB: b.db, Accounts: b.accounts, Clock: b.clock, Secret: secret, NoBackground: true})
		if err != nil {
			t.Fatalf("building receiver: %v", err)
		}
		t.Cleanup(func() { _ = rc.Close() })
		body := `{"AccountStatus":{"account_id":"` + a.ProviderAccountID + `","account_type":"LINKEDIN","message":"CREDENTIALS"}}`
		for i := 0; i < 5; i++ {
			req := httptest.NewRequest(http.MethodPost, webhook.Path, bytes.NewBufferString(body))
			req.Header.Set(webhook.HeaderSecret, secret)
			rec := httptest.NewRecorder()
			rc.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("delivery %d answered %d", i+1, rec.Code)
			}
			if i == 1 {
				if _, err := rc.ProcessPending(ctx); err != nil {
					t.Fatalf("processing: %v", err)
				}
			}
		}
		if _, err := rc.ProcessPending(ctx); err != nil {
			t.Fatalf("processing: %v", err)
		}
		if n := countRows(ctx, t, b.db, `SELECT count(*) FROM webhook_inbox`); n != 1 {
			t.Fatalf("%d inbox rows for one delivery sent five times", n)
		}
		if n := countRows(ctx, t, b.db, `SELECT count(*) FROM linkedin_account_status_audit WHERE account_id = $1 AND to_status = 'disconnected'`, a.ID); n != 1 {
			t.Fatalf("%d flips to disconnected, want 1", n)
		}
		got, err := b.accounts.Get(ctx, b.db.SQL, "", a.ID)
		if err != nil || got.Status != account.StatusDisconnected {
			t.Fatalf("account after CREDENTIALS: %+v %v", got, err)
		}
		_, err = b.db.SQL.ExecContext(ctx, `UPDATE webhook_inbox SET payload = '{"AccountStatus":{}}'`)
		if !db.ViolatesConstraint(err, "webhook_inbox_guard") {
			t.Fatalf("rewriting a stored payload: %v", err)
		}
	})
}
