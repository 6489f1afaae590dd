package send_test

import (
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestInMailTopUpsInvariants: the database itself keeps top-ups
// append-only, attributed and consistent, and the workspace's hand-off
// delay in range, whatever writes to it.
func TestInMailTopUpsInvariants(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 12)
		sa := s.addAccount(t, "Acct T", account.TierPremium, "UTC", 5)
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		ins := `INSERT INTO inmail_top_ups (account_id, cleared_by, source, balance, cleared_at) VALUES ($1, $2, $3, $4, $5)`
		if _, err := s.d.SQL.ExecContext(s.ctx, ins, sa.acc.ID, "ops", "manual", nil, now); err != nil {
			t.Fatalf("a valid top-up was refused: %v", err)
		}
		for name, args := range map[string][]any{
			"no one":                    {sa.acc.ID, "", "manual", nil, now},
			"unknown source":            {sa.acc.ID, "ops", "magic", nil, now},
			"balance check, no balance": {sa.acc.ID, "balance check", "balance_check", nil, now},
			"zero balance":              {sa.acc.ID, "balance check", "balance_check", 0, now},
			"unknown account":           {"acc_nope", "ops", "manual", nil, now},
		} {
			if _, err := s.d.SQL.ExecContext(s.ctx, ins, args...); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
		if _, err := s.d.SQL.ExecContext(s.ctx, `UPDATE inmail_top_ups SET cleared_by = 'someone else'`); err == nil {
			t.Error("a top-up was edited")
		}
		if _, err := s.d.SQL.ExecContext(s.ctx, `DELETE FROM inmail_top_ups`); err == nil {
			t.Error("a top-up was deleted")
		}
		for _, h := range []int{0, -1, 721} {
			if _, err := s.d.SQL.ExecContext(s.ctx, `UPDATE workspaces SET sender_handoff_hours = $1`, h); err == nil {
				t.Errorf("sender_handoff_hours = %d accepted", h)
			}
		}
		var h int
		if err := s.d.SQL.QueryRowContext(s.ctx, `SELECT sender_handoff_hours FROM workspaces WHERE id = $1`, s.ws.ID).Scan(&h); err != nil || h != 72 {
			t.Fatalf("default sender_handoff_hours = %d (%v), want 72", h, err)
		}
	})
}
