package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/workspace"
)

func TestSendsSettle(t *testing.T) {
	t.Parallel()
	forEngineEnvs(t, func(t *testing.T, env map[string]string) {
		if r := run(t, env, "workspace", "create", "acme"); r.code != ExitOK {
			t.Fatal(r)
		}
		d := openEnvDB(t, env)
		ctx := context.Background()
		c := clock.Real{}
		ws, err := workspace.BySlug(ctx, d.SQL, "acme")
		if err != nil {
			t.Fatal(err)
		}
		accounts := account.NewService(d, c)
		camps := campaign.NewService(d, c)
		a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p-acme", Status: account.StatusConnected, Tier: account.TierPremium})
		if err != nil {
			t.Fatal(err)
		}
		name := "settle"
		cp, err := camps.Create(ctx, ws.ID, campaign.Input{Name: &name, AccountIDs: []string{a.ID},
			Steps: []campaign.Step{{ID: "m1", Type: campaign.StepInMail, Subject: "Hi", Text: "Hello"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := camps.Import(ctx, cp.ID, ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAsettlecliperson1"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := camps.Start(ctx, ws.ID, cp.ID); err != nil {
			t.Fatal(err)
		}
		var enID, prID string
		if err := d.SQL.QueryRow(`SELECT id, prospect_id FROM enrollments WHERE campaign_id = $1`, cp.ID).Scan(&enID, &prID); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		if _, err := d.SQL.ExecContext(ctx, `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id,
			step_id, action, state, claimed_at) VALUES ('snd_cli', $1, $2, $3, $4, $5, 'm1', 'inmail', 'intent', $6)`,
			ws.ID, a.ID, cp.ID, enID, prID, now); err != nil {
			t.Fatal(err)
		}
		if _, err := d.SQL.ExecContext(ctx, `UPDATE sends SET state = 'dispatched', dispatched_at = $1 WHERE id = 'snd_cli'`, now); err != nil {
			t.Fatal(err)
		}
		if _, err := d.SQL.ExecContext(ctx, `UPDATE sends SET state = 'unknown', error = 'lost' WHERE id = 'snd_cli'`); err != nil {
			t.Fatal(err)
		}
		if r := run(t, env, "sends", "settle", "snd_cli", "--outcome", "maybe"); r.code != ExitUsage {
			t.Fatalf("bad outcome: %+v", r)
		}
		if r := run(t, env, "sends", "settle", "snd_nope", "--outcome", "sent"); r.code != ExitFailure || !strings.Contains(r.stderr, "no send") {
			t.Fatalf("unknown send: %+v", r)
		}
		if r := run(t, env, "sends", "settle", "snd_cli", "--outcome", "not_sent"); r.code != ExitOK || !strings.Contains(r.stdout, "now failed") {
			t.Fatalf("settle: %+v", r)
		}
		var by string
		if err := d.SQL.QueryRow(`SELECT settled_by FROM sends WHERE id = 'snd_cli'`).Scan(&by); err != nil || by != BySettleCLI {
			t.Fatalf("settled by %q: %v", by, err)
		}
		if r := run(t, env, "sends", "settle", "snd_cli", "--outcome", "sent"); r.code != ExitFailure || !strings.Contains(r.stderr, "unknown can be settled") {
			t.Fatalf("settling twice: %+v", r)
		}
	})
}
