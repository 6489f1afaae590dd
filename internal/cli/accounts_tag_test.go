package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestAccountsTagAndUntag: keel accounts tag / untag change an account's
// tags all at once or not at all (exit 0, 2 for a tag that is not one, 1
// for an unknown account or an eleventh tag), and keel accounts list shows
// them and filters by --tag (docs/accounts.md#tags).
func TestAccountsTagAndUntag(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			dbURL := "sqlite:" + filepath.Join(t.TempDir(), "keel.db")
			if e == db.Postgres {
				dbURL = dbtest.NewPostgresSchema(t, false)
			}
			env := map[string]string{"KEEL_DATABASE_URL": dbURL}
			if r := run(t, env, "migrate"); r.code != ExitOK {
				t.Fatal(r)
			}
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
			svc := account.NewService(d, clock.Real{})
			a, err := svc.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p-1", Name: "Ada", Status: account.StatusConnected})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p-2", Name: "Bob", Status: account.StatusConnected}); err != nil {
				t.Fatal(err)
			}
			stored := func() string {
				tags, err := account.TagsOf(ctx, d.SQL, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				return strings.Join(tags, ",")
			}

			if r := run(t, env, "accounts", "tag", a.ID); r.code != ExitUsage {
				t.Fatalf("tag without a tag: exit %d", r.code)
			}
			if r := run(t, env, "accounts", "tag", a.ID, "EMEA Team", "client-a"); r.code != ExitOK || !strings.Contains(r.stdout, "client-a,emea-team") {
				t.Fatalf("tag: %d %q %q", r.code, r.stdout, r.stderr)
			}
			r := run(t, env, "accounts", "tag", a.ID, "ok", "no/slash")
			if r.code != ExitUsage || !strings.Contains(r.stderr, `"no/slash" is not a tag`) || strings.Count(r.stderr, "\n") != 1 || stored() != "client-a,emea-team" {
				t.Fatalf("a bad tag: %d %q, stored %s", r.code, r.stderr, stored())
			}
			if r := run(t, env, "accounts", "tag", a.ID, "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"); r.code != ExitFailure ||
				!strings.Contains(r.stderr, "at most 10 tags") || stored() != "client-a,emea-team" {
				t.Fatalf("an eleventh tag: %d %q, stored %s", r.code, r.stderr, stored())
			}
			if r := run(t, env, "accounts", "tag", "acc_nope", "x"); r.code != ExitFailure || !strings.Contains(r.stderr, "no account") {
				t.Fatalf("unknown account: %d %q", r.code, r.stderr)
			}

			r = run(t, env, "accounts", "list", "--tag", "EMEA Team")
			if r.code != ExitOK || !strings.Contains(r.stdout, "TAGS") || !strings.Contains(r.stdout, "client-a,emea-team") || strings.Contains(r.stdout, "Bob") {
				t.Fatalf("list --tag: %d %q %q", r.code, r.stdout, r.stderr)
			}
			r = run(t, env, "accounts", "list", "--json")
			var list []map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 2 {
				t.Fatalf("list --json: %v %q", err, r.stdout)
			}
			for _, x := range list {
				if _, ok := x["tags"].([]any); !ok {
					t.Fatalf("account JSON without tags: %v", x)
				}
			}
			if r := run(t, env, "accounts", "list", "--tag", "no/slash"); r.code != ExitUsage {
				t.Fatalf("list with a bad --tag: exit %d", r.code)
			}

			if r := run(t, env, "accounts", "untag", a.ID, "client-a", "never-had"); r.code != ExitOK || stored() != "emea-team" {
				t.Fatalf("untag: %d %q %q, stored %s", r.code, r.stdout, r.stderr, stored())
			}
			if r := run(t, env, "accounts", "untag", a.ID, "!!"); r.code != ExitUsage || stored() != "emea-team" {
				t.Fatalf("untag a bad tag: %d %q", r.code, r.stderr)
			}
		})
	}
}
