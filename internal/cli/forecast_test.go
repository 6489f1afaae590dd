package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/forecast"
	"github.com/keel-outreach/keel/internal/workspace"
)

func TestForecastCampaign(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "keel.db")
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
	c := clock.Real{}
	ws, err := workspace.BySlug(ctx, d.SQL, "acme")
	if err != nil {
		t.Fatal(err)
	}
	a, err := account.NewService(d, c).Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "prov_ada", Name: "Ada",
		Status: account.StatusConnected, Tier: account.TierPremium, Timezone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	camps := campaign.NewService(d, c)
	name := "Q3"
	camp, err := camps.Create(ctx, ws.ID, campaign.Input{Name: &name, AccountIDs: []string{a.ID},
		Steps: []campaign.Step{{ID: "s1", Type: campaign.StepInvite}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := camps.Import(ctx, camp.ID, ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAx1"}, {Row: 2, ProviderID: "ACoAAx2"}}); err != nil {
		t.Fatal(err)
	}

	for _, bad := range [][]string{{"--days", "0"}, {"--days", "91"}, {"--days", "x"}, {}} {
		args := append([]string{"forecast", "campaign"}, bad...)
		if len(bad) > 0 {
			args = append(args, camp.ID)
		}
		if r := run(t, env, args...); r.code != ExitUsage {
			t.Errorf("keel %v: exit %d %q", args, r.code, r.stderr)
		} else if len(bad) > 0 && !strings.Contains(r.stderr, "--days") {
			t.Errorf("keel %v does not name --days: %q", args, r.stderr)
		}
	}
	if r := run(t, env, "forecast", "campaign", "cmp_nope"); r.code != ExitFailure {
		t.Errorf("unknown campaign: %+v", r)
	}
	r := run(t, env, "forecast", "campaign", camp.ID, "--days", "10", "--json")
	var f forecast.Forecast
	if r.code != ExitOK || json.Unmarshal([]byte(r.stdout), &f) != nil {
		t.Fatalf("--json: %+v", r)
	}
	if len(f.Days) != 10 || f.FinishDate == nil || f.Assumptions.LiveProspects != 2 || !f.Assumptions.AssumesRunning {
		t.Fatalf("forecast of a draft with two prospects: %+v", f)
	}
	total := 0
	for _, day := range f.Days {
		total += day.Actions["invite"]
	}
	if total != 2 {
		t.Fatalf("two prospects, %d invitations", total)
	}
	r = run(t, env, "forecast", "campaign", camp.ID)
	for _, want := range []string{"date", "invite", "capacity", "binding", "s1 by ", "finish date: " + *f.FinishDate, "acceptance 30% after 48 h (default"} {
		if r.code != ExitOK || !strings.Contains(r.stdout, want) {
			t.Errorf("human output lacks %q: %d %s %s", want, r.code, r.stdout, r.stderr)
		}
	}
	if lines := strings.Count(r.stdout, "\n"); lines < 30 {
		t.Errorf("default horizon is 30 days; output has %d lines", lines)
	}
}
