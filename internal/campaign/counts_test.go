package campaign_test

import (
	"database/sql"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestStateCountsFollowEveryWrite writes around the service with raw SQL —
// multi-row inserts, updates that move some rows and not others, a
// campaign change, deletes — and after each compares the campaign's counts
// with the enrollments themselves; folding changes no count; a delta
// cannot be edited (docs/storage.md#enrollment-state-counts).
func TestStateCountsFollowEveryWrite(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c1, c2 := f.create(t, f.a), f.create(t, f.a)
		var csv strings.Builder
		csv.WriteString("linkedin_url\n")
		for i := 0; i < 12; i++ {
			fmt.Fprintf(&csv, "https://www.linkedin.com/in/counted-%d\n", i)
		}
		f.importCSV(t, c1, csv.String())
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := d.SQL.ExecContext(f.ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		truth := func(campaignID string) map[string]int {
			t.Helper()
			rows, err := d.SQL.QueryContext(f.ctx, `SELECT state, count(*) FROM enrollments WHERE campaign_id = $1 GROUP BY state`, campaignID)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			out := map[string]int{}
			for rows.Next() {
				var st string
				var n int
				if err := rows.Scan(&st, &n); err != nil {
					t.Fatal(err)
				}
				out[st] = n
			}
			return out
		}
		check := func(step string) {
			t.Helper()
			for _, c := range []campaign.Campaign{c1, c2} {
				got, err := f.campaigns.EnrollmentStates(f.ctx, d.SQL, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if want := truth(c.ID); !maps.Equal(got, want) {
					t.Fatalf("after %s, campaign %s counts %v, enrollments say %v", step, c.ID, got, want)
				}
			}
		}
		check("the import")
		if got := f.enrollments(t, c1); len(got) != 12 {
			t.Fatalf("imported %d enrollments, want 12", len(got))
		}
		exec(`UPDATE enrollments SET state = 'ended', ended_reason = 'manual' WHERE campaign_id = $1 AND id IN (
			SELECT id FROM enrollments WHERE campaign_id = $1 ORDER BY id LIMIT 5)`, c1.ID)
		check("ending five in one statement")
		exec(`UPDATE enrollments SET updated_at = updated_at WHERE campaign_id = $1`, c1.ID)
		check("an update that moves nobody")
		exec(`UPDATE enrollments SET campaign_id = $2 WHERE campaign_id = $1 AND state = 'ended'`, c1.ID, c2.ID)
		check("moving the ended ones to another campaign")
		exec(`DELETE FROM enrollments WHERE campaign_id = $1 AND id IN (
			SELECT id FROM enrollments WHERE campaign_id = $1 ORDER BY id LIMIT 2)`, c2.ID)
		check("deleting two")
		before, err := f.campaigns.EnrollmentStates(f.ctx, d.SQL, c1.ID)
		if err != nil {
			t.Fatal(err)
		}
		var folded int
		if err := d.InTx(f.ctx, func(tx *sql.Tx) error {
			folded, err = f.campaigns.FoldStateCounts(f.ctx, tx, "")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if folded == 0 {
			t.Fatal("nothing folded although single changes appended deltas")
		}
		check("the fold")
		after, err := f.campaigns.EnrollmentStates(f.ctx, d.SQL, c1.ID)
		if err != nil || !maps.Equal(before, after) {
			t.Fatalf("the fold changed counts: %v → %v (%v)", before, after, err)
		}
		var rows int
		if err := d.SQL.QueryRowContext(f.ctx, `SELECT count(*) FROM enrollment_state_counts WHERE campaign_id = $1`, c1.ID).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != len(after) {
			t.Fatalf("after the fold campaign %s keeps %d delta rows for %d states", c1.ID, rows, len(after))
		}
		if _, err := d.SQL.ExecContext(f.ctx, `UPDATE enrollment_state_counts SET n = n + 1 WHERE campaign_id = $1`, c1.ID); err == nil ||
			!strings.Contains(err.Error(), "enrollment_state_counts_immutable") {
			t.Fatalf("a count delta was edited: %v", err)
		}
		if _, err := d.SQL.ExecContext(f.ctx, `INSERT INTO enrollment_state_counts (campaign_id, state, n) VALUES ($1, 'active', 0)`, c1.ID); !db.ViolatesConstraint(err, "enrollment_state_counts_n_chk") {
			t.Fatalf("an empty delta was stored: %v", err)
		}
		check("the refused writes")
	})
}
