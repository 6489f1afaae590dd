package outbound_test

import (
	"context"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/outbound"
	"github.com/keel-outreach/keel/internal/workspace"
)

func TestSecretIsStoredOnlyAsItsSigningKey(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		ws, err := workspace.Create(ctx, d.SQL, "acme", "", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		svc := outbound.New(outbound.Options{DB: d, Clock: c, Resolver: newFakeDNS(map[string]string{"hooks.example.com": "203.0.113.10"})})
		ep, secret, err := svc.CreateEndpoint(ctx, ws.ID, "https://hooks.example.com/keel", nil)
		if err != nil {
			t.Fatal(err)
		}
		var stored string
		if err := d.SQL.QueryRow(`SELECT secret FROM outbound_endpoints WHERE id = $1`, ep.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored == secret || stored != outbound.SigningKey(secret) {
			t.Fatalf("the database holds %q for secret %q; want only its signing key", stored, secret)
		}
	})
}
