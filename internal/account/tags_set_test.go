package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestTagSets: a tag set is replaced, added to and taken from as a whole
// (docs/accounts.md#tags): every bad entry named by index at once, nothing
// changed on any error, tags kept keep their creator, the list filters by
// tag, another workspace's account is not found.
func TestTagSets(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		ws, err := workspace.Create(ctx, d.SQL, "tagsets", "Tag sets", now)
		if err != nil {
			t.Fatal(err)
		}
		svc := account.NewService(d, clock.NewFake(now))
		mk := func(p string) account.Account {
			a, err := svc.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: p, Name: p, Status: account.StatusConnected})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		a, b := mk("p1"), mk("p2")
		tagsOf := func(id string) string {
			tags, err := account.TagsOf(ctx, d.SQL, id)
			if err != nil {
				t.Fatal(err)
			}
			return strings.Join(tags, ",")
		}

		t.Run("SetReplacesTheWholeSetNormalized", func(t *testing.T) {
			if err := svc.AddTag(ctx, ws.ID, a.ID, "old", "user:x"); err != nil {
				t.Fatal(err)
			}
			got, err := svc.SetTags(ctx, ws.ID, a.ID, []string{"EMEA Team", "client-a", "emea-team", "  Old "}, "token:t1")
			if err != nil || strings.Join(got, ",") != "client-a,emea-team,old" || tagsOf(a.ID) != "client-a,emea-team,old" {
				t.Fatalf("set: %v %v (stored %s)", got, err, tagsOf(a.ID))
			}
			var by string
			if err := d.SQL.QueryRowContext(ctx, `SELECT created_by FROM account_tags WHERE account_id = $1 AND tag = 'old'`, a.ID).Scan(&by); err != nil || by != "user:x" {
				t.Fatalf("a kept tag lost its creator: %q %v", by, err)
			}
		})

		t.Run("EveryBadEntryIsNamedAndNothingChanges", func(t *testing.T) {
			_, err := svc.SetTags(ctx, ws.ID, a.ID, []string{"fine", "no/slash", "", strings.Repeat("x", 33)}, "token:t1")
			var te *account.TagsError
			if !errors.As(err, &te) || len(te.Fields) != 3 || te.Fields[0].Field != "tags[1]" || te.Fields[1].Field != "tags[2]" ||
				te.Fields[2].Field != "tags[3]" {
				t.Fatalf("bad entries: %v", err)
			}
			eleven := []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10"}
			if _, err := svc.SetTags(ctx, ws.ID, a.ID, eleven, "token:t1"); !errors.As(err, &te) || te.Fields[0].Field != "tags" {
				t.Fatalf("eleven tags: %v", err)
			}
			if _, err := svc.AddTags(ctx, ws.ID, a.ID, eleven[:8], "cli"); !errors.As(err, &te) || te.Fields[0].Field != "tags" {
				t.Fatalf("adding past ten: %v", err)
			}
			if _, err := svc.RemoveTags(ctx, ws.ID, a.ID, []string{"old", "no/slash"}); !errors.As(err, &te) {
				t.Fatalf("removing with a bad entry: %v", err)
			}
			if got := tagsOf(a.ID); got != "client-a,emea-team,old" {
				t.Fatalf("a refused set changed the tags: %s", got)
			}
		})

		t.Run("AddAndRemoveSeveral", func(t *testing.T) {
			got, err := svc.AddTags(ctx, ws.ID, a.ID, []string{"new", "old"}, "cli")
			if err != nil || strings.Join(got, ",") != "client-a,emea-team,new,old" {
				t.Fatalf("add: %v %v", got, err)
			}
			got, err = svc.RemoveTags(ctx, ws.ID, a.ID, []string{"new", "client-a", "never-had"})
			if err != nil || strings.Join(got, ",") != "emea-team,old" || tagsOf(a.ID) != "emea-team,old" {
				t.Fatalf("remove: %v %v", got, err)
			}
			if got, err := svc.SetTags(ctx, ws.ID, b.ID, nil, "cli"); err != nil || len(got) != 0 {
				t.Fatalf("an empty set: %v %v", got, err)
			}
		})

		t.Run("ListFiltersByTagAndLoadsTags", func(t *testing.T) {
			list, err := svc.List(ctx, d.SQL, account.ListOptions{WorkspaceID: ws.ID, Tag: "old"})
			if err != nil || len(list) != 1 || list[0].ID != a.ID {
				t.Fatalf("list by tag: %v %v", list, err)
			}
			all, err := svc.List(ctx, d.SQL, account.ListOptions{WorkspaceID: ws.ID})
			if err != nil {
				t.Fatal(err)
			}
			if err := account.LoadTags(ctx, d.SQL, all); err != nil {
				t.Fatal(err)
			}
			for _, x := range all {
				want := map[string]string{a.ID: "emea-team,old", b.ID: ""}[x.ID]
				if x.Tags == nil || strings.Join(x.Tags, ",") != want {
					t.Fatalf("tags of %s: %#v, want %q", x.ID, x.Tags, want)
				}
			}
		})

		t.Run("AnotherWorkspacesAccountIsNotFound", func(t *testing.T) {
			if _, err := svc.SetTags(ctx, "ws_other", a.ID, []string{"x"}, "token:t"); !errors.Is(err, account.ErrNotFound) {
				t.Fatalf("set: %v", err)
			}
			if _, err := svc.AddTags(ctx, ws.ID, "acc_nope", []string{"x"}, "cli"); !errors.Is(err, account.ErrNotFound) {
				t.Fatalf("add: %v", err)
			}
		})
	})
}
