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

// TestTagsRawSQL: the database holds the tag rules whatever writes it
// (docs/accounts.md#tags): charset and length, one tag once per account, a
// creator; the service normalizes and refuses what the database would.
func TestTagsRawSQL(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		ws, err := workspace.Create(ctx, d.SQL, "tags", "Tags", now)
		if err != nil {
			t.Fatal(err)
		}
		svc := account.NewService(d, clock.NewFake(now))
		a, err := svc.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p1", Name: "Ada",
			Status: account.StatusConnected})
		if err != nil {
			t.Fatal(err)
		}
		ins := func(tag, by string) error {
			_, err := d.SQL.ExecContext(ctx, `INSERT INTO account_tags (account_id, tag, created_at, created_by) VALUES ($1, $2, $3, $4)`,
				a.ID, tag, now, by)
			return err
		}
		if err := ins("client-a_2", "cli"); err != nil {
			t.Fatalf("a valid tag is refused: %v", err)
		}
		for name, err := range map[string]error{
			"empty":       ins("", "cli"),
			"uppercase":   ins("Client", "cli"),
			"space":       ins("a b", "cli"),
			"slash":       ins("a/b", "cli"),
			"leading '-'": ins("-a", "cli"),
			"too long":    ins(strings.Repeat("a", 33), "cli"),
			"non-ascii":   ins("café", "cli"),
			"duplicate":   ins("client-a_2", "cli"),
			"no creator":  ins("other", ""),
		} {
			if err == nil {
				t.Errorf("%s: the database accepted a broken tag", name)
			}
		}
		if err := ins(strings.Repeat("a", 32), "cli"); err != nil {
			t.Errorf("a 32-character tag is refused: %v", err)
		}

		if err := svc.AddTag(ctx, ws.ID, a.ID, "  EMEA  Team ", "user:x"); err != nil {
			t.Fatal(err)
		}
		if err := svc.AddTag(ctx, ws.ID, a.ID, "emea-team", "user:x"); err != nil {
			t.Fatalf("adding a tag twice: %v", err)
		}
		if err := svc.AddTag(ctx, ws.ID, a.ID, "no/slash", "user:x"); !errors.Is(err, account.ErrBadTag) {
			t.Fatalf("bad tag: %v", err)
		}
		if err := svc.AddTag(ctx, "ws_other", a.ID, "x", "user:x"); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("another workspace's account: %v", err)
		}
		tags, err := account.TagsOf(ctx, d.SQL, a.ID)
		if err != nil || strings.Join(tags, ",") != strings.Repeat("a", 32)+",client-a_2,emea-team" {
			t.Fatalf("tags: %v %v", tags, err)
		}
		for i := range 7 {
			if err := svc.AddTag(ctx, ws.ID, a.ID, "t"+string(rune('0'+i)), "user:x"); err != nil {
				t.Fatal(err)
			}
		}
		if err := svc.AddTag(ctx, ws.ID, a.ID, "eleventh", "user:x"); !errors.Is(err, account.ErrTooManyTags) {
			t.Fatalf("eleventh tag: %v", err)
		}
		if err := svc.RemoveTag(ctx, ws.ID, a.ID, "emea-team"); err != nil {
			t.Fatal(err)
		}
		all, err := account.WorkspaceTags(ctx, d.SQL, ws.ID)
		if err != nil || len(all[a.ID]) != 9 {
			t.Fatalf("workspace tags: %v %v", all, err)
		}
	})
}
