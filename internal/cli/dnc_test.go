package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/workspace"
)

func TestDNCCommands(t *testing.T) {
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
		a, err := account.NewService(d, c).Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p-acme", Status: account.StatusConnected})
		if err != nil {
			t.Fatal(err)
		}
		camps := campaign.NewService(d, c)
		name := "dnc"
		cp, err := camps.Create(ctx, ws.ID, campaign.Input{Name: &name, AccountIDs: []string{a.ID}, Steps: []campaign.Step{{ID: "s1", Type: campaign.StepViewProfile}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := camps.Import(ctx, cp.ID, ws.ID, []campaign.ProspectRow{{Row: 1, LinkedInURL: "https://www.linkedin.com/in/jane"}}); err != nil {
			t.Fatal(err)
		}

		if r := run(t, env, "dnc", "add", "--workspace", "acme"); r.code != ExitUsage {
			t.Fatalf("no values: %+v", r)
		}
		r := run(t, env, "dnc", "add", "--workspace", "acme", "linkedin.com/in/Jane", "ACoAAcli12345", "https://www.linkedin.com/company/acme",
			"--reason", "asked us")
		if r.code != ExitOK || !strings.Contains(r.stdout, "3 added, 0 skipped, 1 enrollments ended") {
			t.Fatalf("add: %+v", r)
		}
		if en, _ := camps.ListEnrollments(ctx, d.SQL, ws.ID, cp.ID, campaign.EnrollmentListOptions{}); len(en) != 1 || en[0].EndedReason != campaign.EndedDoNotContact {
			t.Fatalf("enrollment after add: %+v", en)
		}
		r = run(t, env, "dnc", "add", "--workspace", "acme", "https://example.com/in/x", "ACoAAcli12345")
		if r.code != ExitFailure || !strings.Contains(r.stdout, "invalid https://example.com/in/x") || !strings.Contains(r.stdout, "duplicate ACoAAcli12345") {
			t.Fatalf("bad add: %+v", r)
		}
		if r := run(t, env, "dnc", "list", "--workspace", "acme"); r.code != ExitOK || !strings.Contains(r.stdout, "https://www.linkedin.com/in/jane") ||
			!strings.Contains(r.stdout, "asked us") {
			t.Fatalf("list: %+v", r)
		}
		r = run(t, env, "dnc", "list", "--workspace", "acme", "--json")
		var list []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 3 || list[0]["created_by"] != ByDNCCLI {
			t.Fatalf("list --json: %+v %v", r, err)
		}
		id := list[0]["id"].(string)
		if r := run(t, env, "dnc", "remove", "--workspace", "acme", "dnc_nope"); r.code != ExitFailure || !strings.Contains(r.stderr, "no do-not-contact entry") {
			t.Fatalf("remove unknown: %+v", r)
		}
		if r := run(t, env, "dnc", "remove", "--workspace", "acme", id); r.code != ExitOK {
			t.Fatalf("remove: %+v", r)
		}
		if got, _ := camps.ListDNC(ctx, d.SQL, ws.ID, "", 0); len(got) != 2 {
			t.Fatalf("after remove: %+v", got)
		}
	})
}
