package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/workspace"
)

// keel diagnose leads with the headline, then the next action in the
// sender's zone and in UTC, then the findings; --json carries
// next_action_at in UTC.
func TestDiagnoseLeadsWithTheHeadlineAndNextAction(t *testing.T) {
	t.Parallel()
	forEngineEnvs(t, func(t *testing.T, env map[string]string) {
		if r := run(t, env, "workspace", "create", "acme"); r.code != ExitOK {
			t.Fatal(r)
		}
		ctx := context.Background()
		d := openEnvDB(t, env)
		c := clock.NewFake(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) // a Monday, 11:00 in Paris
		ws, err := workspace.BySlug(ctx, d.SQL, "acme")
		if err != nil {
			t.Fatal(err)
		}
		accounts, camps := account.NewService(d, c), campaign.NewService(d, c)
		a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p1", Name: "Grace Hopper",
			Status: account.StatusConnected, Tier: account.TierPremium, Timezone: "Europe/Paris"})
		if err != nil {
			t.Fatal(err)
		}
		name := "Paced"
		cp, err := camps.Create(ctx, ws.ID, campaign.Input{Name: &name, AccountIDs: []string{a.ID}, Steps: []campaign.Step{{ID: "s1", Type: campaign.StepInvite}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := camps.Import(ctx, cp.ID, ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAone", FirstName: "One"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := camps.Start(ctx, ws.ID, cp.ID); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{`UPDATE linkedin_accounts SET ramp_started_at = $2 WHERE id = $1`,
			`INSERT INTO account_pacing (account_id, next_allowed_at) VALUES ($1, $2)`} {
			at := c.Now().Add(-60 * 24 * time.Hour)
			if strings.HasPrefix(q, "INSERT") {
				at = c.Now().Add(3*time.Hour + 32*time.Minute)
			}
			if _, err := d.SQL.Exec(q, a.ID, at); err != nil {
				t.Fatal(err)
			}
		}
		runAt := func(args ...string) string {
			t.Helper()
			var out, errOut bytes.Buffer
			if code := Run(ctx, args, Env{Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errOut, Clock: c}); code != ExitOK {
				t.Fatalf("keel %v: exit %d: %s", args, code, errOut.String())
			}
			return out.String()
		}
		for _, subject := range [][]string{{"campaign", cp.ID}, {"account", a.ID}} {
			lines := strings.Split(strings.TrimSpace(runAt("diagnose", subject[0], subject[1])), "\n")
			if len(lines) < 3 || lines[0] != "Sending — next invitation from Grace Hopper at 14:32 (Europe/Paris)" {
				t.Fatalf("%s: headline first: %q", subject[0], lines)
			}
			if lines[1] != "next action: 14:32 (Europe/Paris) = 2026-03-02 13:32 UTC" {
				t.Fatalf("%s: next action: %q", subject[0], lines[1])
			}
			pacing := false
			for _, l := range lines[2:] {
				if strings.HasPrefix(l, "[info] pacing: ") && strings.HasSuffix(l, "(clears 14:32 (Europe/Paris) = 2026-03-02 13:32 UTC)") {
					pacing = true
				}
			}
			if !pacing {
				t.Fatalf("%s: no pacing finding: %q", subject[0], lines)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(runAt("diagnose", subject[0], subject[1], "--json")), &body); err != nil {
				t.Fatal(err)
			}
			if body["next_action_at"] != "2026-03-02T13:32:00Z" || body["sending"] != true {
				t.Fatalf("%s --json: %v", subject[0], body)
			}
		}
	})
}

func TestCountWording(t *testing.T) {
	t.Parallel()
	if count(1, "account", "accounts") != "1 account" || count(0, "account", "accounts") != "0 accounts" || count(2, "x", "xs") != "2 xs" {
		t.Fatal("count")
	}
}
