package api

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/token"
)

func TestInstallationAlertsAreAcknowledgedOnlyByOperators(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		burst, _, err := alert.Raise(ctx, d.SQL, now, alert.New{Kind: alert.KindMass404Burst, Severity: alert.Critical,
			Message: "Unipile answers 404 for many accounts"})
		if err != nil {
			t.Fatal(err)
		}

		// Workspace B sees it, and cannot acknowledge it.
		_, body, _ := b.do(t, "GET", "/api/v1/alerts", b.b.secret)
		listed := false
		for _, it := range body["items"].([]any) {
			m := it.(map[string]any)
			if m["id"] == burst {
				listed = m["installation_wide"] == true
			}
		}
		if !listed {
			t.Fatalf("the installation-wide alert is not listed as such for a workspace: %v", body)
		}
		status, body, h := b.do(t, "POST", "/api/v1/alerts/"+burst+"/ack", b.b.secret)
		if status != 403 || h.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(body["detail"].(string), "installation operator") {
			t.Fatalf("workspace token acknowledging an installation-wide alert: %d %v", status, body)
		}
		if a, err := alert.Get(ctx, d.SQL, burst, ""); err != nil || a.AcknowledgedAt != nil || a.AcknowledgedBy != "" {
			t.Fatalf("the refused acknowledgement changed the alert: %+v %v", a, err)
		}

		// A workspace still acknowledges its own alerts.
		status, body, _ = b.do(t, "POST", "/api/v1/alerts/"+b.a.alertID+"/ack", b.a.secret)
		if status != 200 || body["acknowledged_at"] == nil {
			t.Fatalf("acknowledging the workspace's own alert: %d %v", status, body)
		}

		// The database refuses a workspace acknowledger on an
		// installation-wide alert, whatever writes it.
		_, err = d.SQL.ExecContext(ctx, `UPDATE admin_alerts SET acknowledged_at = $2, acknowledged_by = 'token:tok_b' WHERE id = $1`, burst, now)
		if !db.ViolatesConstraint(err, "admin_alerts_installation_ack_chk") {
			t.Fatalf("raw acknowledgement by a token: %v", err)
		}

		// An operator acknowledges it; workspaces see who as a label only.
		a, err := alert.Acknowledge(ctx, d.SQL, now, burst, "", alert.ByCLI)
		if err != nil || a.AcknowledgedAt == nil || a.AcknowledgedBy != alert.ByCLI {
			t.Fatalf("operator acknowledgement: %+v %v", a, err)
		}
		for _, secret := range []string{b.a.secret, b.b.secret} {
			_, body, _ := b.do(t, "GET", "/api/v1/alerts", secret)
			for _, it := range body["items"].([]any) {
				m := it.(map[string]any)
				if m["id"] == burst && m["acknowledged_by"] != alert.OperatorLabel {
					t.Fatalf("a workspace sees the acknowledger as %v", m["acknowledged_by"])
				}
			}
		}
		// Acknowledged or not, a workspace's ack stays refused.
		if status, _, _ := b.do(t, "POST", "/api/v1/alerts/"+burst+"/ack", b.a.secret); status != 403 {
			t.Fatalf("ack of an acknowledged installation-wide alert: %d", status)
		}
	})
}

func TestTokenLifecycleOverHTTP(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		ctx := context.Background()
		c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		srv := newValidatedServer(t, New(Options{DB: d, Accounts: account.NewService(d, c), Clock: c}))
		t.Cleanup(srv.Close)
		b.srv = srv

		exp := c.Now().Add(time.Hour)
		tok, secret, err := token.Issue(ctx, d.SQL, token.New{WorkspaceID: b.a.ws.ID, Name: "ci", ExpiresAt: &exp}, c.Now())
		if err != nil {
			t.Fatal(err)
		}
		if status, body, _ := b.do(t, "GET", "/api/v1/accounts", secret); status != 200 {
			t.Fatalf("fresh token: %d %v", status, body)
		}
		got, err := token.Get(ctx, d.SQL, tok.ID, "")
		if err != nil || got.LastUsedAt == nil || !got.LastUsedAt.Equal(c.Now()) {
			t.Fatalf("last_used_at after a request: %+v %v", got, err)
		}

		c.Advance(time.Hour)
		status, body, _ := b.do(t, "GET", "/api/v1/accounts", secret)
		if status != 401 || !strings.Contains(body["detail"].(string), "token expired") {
			t.Fatalf("expired token: %d %v", status, body)
		}

		_, other, err := token.Create(ctx, d.SQL, b.a.ws.ID, "other", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.SQL.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE token_hash = $1`, token.Hash(other), c.Now()); err != nil {
			t.Fatal(err)
		}
		status, body, _ = b.do(t, "GET", "/api/v1/accounts", other)
		if status != 401 || !strings.Contains(body["detail"].(string), "token revoked") {
			t.Fatalf("revoked token: %d %v", status, body)
		}
	})
}
