package account_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/logging/logtest"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestFlipLogsOneLineAfterCommit: a committed flip logs exactly one info
// line with its ids and statuses; a flip whose transaction rolls back logs
// nothing (docs/operations.md#logs).
func TestFlipLogsOneLineAfterCommit(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		ws, err := workspace.Create(ctx, d.SQL, "flips", "Flips", now)
		if err != nil {
			t.Fatal(err)
		}
		rec, logger := logtest.New(slog.LevelInfo)
		svc := account.NewService(d, clock.NewFake(now), account.WithLogger(logger))
		a, err := svc.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p1", Name: "Ada",
			Status: account.StatusConnected})
		if err != nil {
			t.Fatal(err)
		}
		c := account.TerminalCredentials()
		t.Run("RolledBackFlipLogsNothing", func(t *testing.T) {
			errUndo := errors.New("undo")
			err := d.InTx(ctx, func(tx *sql.Tx) error {
				if _, err := svc.FlipTx(ctx, tx, account.FlipRequest{AccountID: a.ID, To: account.StatusDisconnected, Copy: &c,
					Reason: "CREDENTIALS", Source: account.SourceWebhook, Actor: "someone@example.com"}); err != nil {
					return err
				}
				return errUndo
			})
			if !errors.Is(err, errUndo) {
				t.Fatalf("flip in a rolled-back transaction: %v", err)
			}
			if got := rec.Records(slog.LevelDebug); len(got) != 0 {
				t.Fatalf("a rolled-back flip logged %+v", got)
			}
		})
		t.Run("CommittedFlipLogsOneLine", func(t *testing.T) {
			if _, err := svc.Flip(ctx, account.FlipRequest{AccountID: a.ID, To: account.StatusDisconnected, Copy: &c,
				Reason: "CREDENTIALS", Source: account.SourceWebhook, Actor: "someone@example.com"}); err != nil {
				t.Fatal(err)
			}
			got := rec.Records(slog.LevelInfo)
			if len(got) != 1 {
				t.Fatalf("info lines for one flip: %+v", got)
			}
			want := map[string]string{"account_id": a.ID, "workspace_id": ws.ID, "from": "connected", "to": "disconnected",
				"source": string(account.SourceWebhook), "reason": "CREDENTIALS"}
			for k, v := range want {
				if got[0].Attrs[k] != v {
					t.Errorf("%s = %q, want %q (line %+v)", k, got[0].Attrs[k], v, got[0])
				}
			}
			if leak := rec.Containing("someone@example.com"); leak != "" {
				t.Errorf("the flip's line names who asked: %s", leak)
			}
		})
	})
}
