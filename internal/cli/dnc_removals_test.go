package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestDNCRemovalsCommand: keel dnc removals lists entries removed from the
// CLI, the UI and the API (the latter two recorded as those surfaces
// record them), newest first with who removed each, as a table and as
// JSON; another workspace's removals never appear.
func TestDNCRemovalsCommand(t *testing.T) {
	t.Parallel()
	forEngineEnvs(t, func(t *testing.T, env map[string]string) {
		for _, slug := range []string{"acme", "other"} {
			if r := run(t, env, "workspace", "create", slug); r.code != ExitOK {
				t.Fatal(r)
			}
		}
		d := openEnvDB(t, env)
		ctx := context.Background()
		camps := campaign.NewService(d, clock.Real{})
		other, err := workspace.BySlug(ctx, d.SQL, "other")
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := camps.AddDNC(ctx, other.ID, ByDNCCLI, []campaign.DNCRow{{Row: 1, ProviderID: "ACoAAtheirs1"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := camps.RemoveDNC(campaign.WithActor(ctx, "user:someone@other.example"), other.ID, theirs.Rows[0].ID); err != nil {
			t.Fatal(err)
		}

		if r := run(t, env, "dnc", "removals"); r.code != ExitUsage {
			t.Fatalf("no workspace: %+v", r)
		}
		if r := run(t, env, "dnc", "removals", "--workspace", "acme", "--json"); r.code != ExitOK || strings.TrimSpace(r.stdout) != "[]" {
			t.Fatalf("none yet: %+v", r)
		}
		if r := run(t, env, "dnc", "add", "--workspace", "acme", "linkedin.com/in/by-cli", "ACoAAbyui1234", "ACoAAbyapi123"); r.code != ExitOK {
			t.Fatalf("add: %+v", r)
		}
		acme, err := workspace.BySlug(ctx, d.SQL, "acme")
		if err != nil {
			t.Fatal(err)
		}
		list, err := camps.ListDNC(ctx, d.SQL, acme.ID, "", 0)
		if err != nil || len(list) != 3 {
			t.Fatalf("listed: %+v %v", list, err)
		}
		ids := map[string]string{}
		for _, e := range list {
			ids[e.Label()] = e.ID
		}

		// From the CLI, then as the UI and the API record theirs.
		if r := run(t, env, "dnc", "remove", "--workspace", "acme", ids["https://www.linkedin.com/in/by-cli"]); r.code != ExitOK {
			t.Fatalf("remove: %+v", r)
		}
		if err := camps.RemoveDNC(campaign.WithActor(ctx, "user:ann@example.com"), acme.ID, ids["ACoAAbyui1234"]); err != nil {
			t.Fatal(err)
		}
		if err := camps.RemoveDNC(campaign.WithActor(ctx, "token:tok_ci"), acme.ID, ids["ACoAAbyapi123"]); err != nil {
			t.Fatal(err)
		}
		want := []struct{ entry, by string }{
			{"ACoAAbyapi123", "token:tok_ci"},
			{"ACoAAbyui1234", "user:ann@example.com"},
			{"https://www.linkedin.com/in/by-cli", "cli"},
		}

		r := run(t, env, "dnc", "removals", "--workspace", "acme", "--json")
		var got []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &got); r.code != ExitOK || err != nil || len(got) != len(want) {
			t.Fatalf("removals --json: %+v %v", r, err)
		}
		for i, w := range want {
			at, _ := time.Parse(time.RFC3339Nano, got[i]["removed_at"].(string))
			if got[i]["entry"] != w.entry || got[i]["removed_by"] != w.by || got[i]["entry_id"] != ids[w.entry] ||
				got[i]["created_by"] != ByDNCCLI || at.IsZero() {
				t.Errorf("removal %d: %v, want %+v", i, got[i], w)
			}
		}

		r = run(t, env, "dnc", "removals", "--workspace", "acme")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if r.code != ExitOK || len(lines) != 4 || !strings.HasPrefix(lines[0], "ENTRY ID") || strings.Contains(r.stdout, "someone@other.example") {
			t.Fatalf("removals: %+v", r)
		}
		for i, w := range want {
			f := strings.Fields(lines[i+1])
			// id, entry, date, time, removed by, added by
			if len(f) != 6 || f[0] != ids[w.entry] || f[1] != w.entry || f[4] != w.by || f[5] != ByDNCCLI {
				t.Errorf("line %d: %q, want %+v", i+1, lines[i+1], w)
			}
		}
	})
}
