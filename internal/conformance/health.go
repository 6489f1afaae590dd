package conformance

import (
	"context"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/health"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// ExerciseHealth runs the health monitor's core rule against databases made
// by newDB: only a third consecutive not-found disconnects, through the
// audited flip, while a success in between resets the strikes. The health
// package's own tests cover the guard, the limiter and the sweep on both
// engines.
func ExerciseHealth(ctx context.Context, t *testing.T, newDB NewDB) {
	t.Run("ThirdNotFoundDisconnects", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t, newDB)
		f := fake.New(fake.Options{Clock: b.clock})
		if err := f.Start("127.0.0.1:0"); err != nil {
			t.Fatalf("starting the fake provider: %v", err)
		}
		t.Cleanup(func() { _ = f.Close() })
		client, err := unipile.New(unipile.Options{BaseURL: f.URL(), APIKey: f.APIKey()})
		if err != nil {
			t.Fatalf("building the provider client: %v", err)
		}
		svc, err := health.New(health.Options{DB: b.db, Accounts: b.accounts, Client: client, Clock: b.clock})
		if err != nil {
			t.Fatalf("building the health service: %v", err)
		}
		var accs []account.Account
		for _, name := range []string{"Gone", "Flaky"} {
			pid := f.AddAccount(fake.AccountSpec{Name: name})
			a, err := b.accounts.Create(ctx, b.db.SQL, account.NewAccount{WorkspaceID: b.ws.ID, ProviderAccountID: pid,
				Name: name, Status: account.StatusConnected})
			if err != nil {
				t.Fatalf("creating account: %v", err)
			}
			accs = append(accs, a)
		}
		gone, flaky := accs[0], accs[1]
		f.FailAccount404(gone.ProviderAccountID, 3)
		f.FailAccount404(flaky.ProviderAccountID, 2)
		check := func(a account.Account) health.Result {
			t.Helper()
			res, err := svc.Check(ctx, a.ID)
			if err != nil {
				t.Fatalf("checking %s: %v", a.Name, err)
			}
			return res
		}
		for strike := 1; strike <= 2; strike++ {
			for _, a := range accs {
				if res := check(a); res.Outcome != health.OutcomeNotFound || res.Strikes != strike || res.Flipped() {
					t.Fatalf("strike %d of %s: %+v", strike, a.Name, res)
				}
			}
			b.clock.Advance(health.DefaultInterval)
		}
		if res := check(flaky); res.Outcome != health.OutcomeOK || res.Strikes != 0 {
			t.Fatalf("a success after two strikes: %+v", res)
		}
		if res := check(gone); res.To != account.StatusDisconnected {
			t.Fatalf("strike 3: %+v", res)
		}
		got, err := b.accounts.Get(ctx, b.db.SQL, "", gone.ID)
		if err != nil || got.Status != account.StatusDisconnected || got.DisconnectedBy != string(account.SourceHealthCheck) || !got.ReconnectNeeded() {
			t.Fatalf("after strike 3: %+v %v", got, err)
		}
		if got, err := b.accounts.Get(ctx, b.db.SQL, "", flaky.ID); err != nil || got.Status != account.StatusConnected || got.Strikes != 0 {
			t.Fatalf("the recovered account: %+v %v", got, err)
		}
		checkChains(t, ctx, b.db)
	})
}
