package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/workspace"
)

func TestAccountsInMailTopUpClearsTheBreaker(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			dbURL := "sqlite:" + filepath.Join(t.TempDir(), "keel.db")
			if e == db.Postgres {
				dbURL = dbtest.NewPostgresSchema(t, false)
			}
			env := map[string]string{"KEEL_DATABASE_URL": dbURL}
			migrate(t, env)
			if r := run(t, env, "workspace", "create", "acme"); r.code != ExitOK {
				t.Fatalf("workspace create: %d %s", r.code, r.stderr)
			}
			ctx := context.Background()
			d, err := db.Open(ctx, dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			ws, err := workspace.BySlug(ctx, d.SQL, "acme")
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			a, err := account.NewService(d, clock.Real{}).Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID,
				ProviderAccountID: "p-1", Status: account.StatusConnected, Tier: account.TierPremium})
			if err != nil {
				t.Fatal(err)
			}
			if err := send.SetBlock(ctx, d.SQL, send.Block{AccountID: a.ID, Action: policy.ActionInMail, Kind: policy.BlockCredits,
				Until: now.Add(24 * time.Hour), Reason: "InMail credits exhausted"}, now); err != nil {
				t.Fatal(err)
			}
			if r := run(t, env, "accounts", "inmail-top-up"); r.code != ExitUsage {
				t.Fatalf("without an id: exit %d", r.code)
			}
			if r := run(t, env, "accounts", "inmail-top-up", "acc_nope"); r.code != ExitFailure {
				t.Fatalf("unknown account: exit %d", r.code)
			}
			r := run(t, env, "accounts", "inmail-top-up", a.ID)
			if r.code != ExitOK || !strings.Contains(r.stdout, "cleared") {
				t.Fatalf("top-up: %d %q %q", r.code, r.stdout, r.stderr)
			}
			if blk, _ := send.ActiveBlock(ctx, d.SQL, a.ID, policy.ActionInMail, now); blk != nil {
				t.Fatalf("breaker still held: %+v", blk)
			}
			if last, err := send.LastTopUp(ctx, d.SQL, a.ID); err != nil || last == nil || last.By != "cli" {
				t.Fatalf("recorded top-up: %+v %v", last, err)
			}
		})
	}
}
