package campaign_test

import (
	"context"
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
		foldKeepsCounts(t, f, d, "enrollment_state_counts", c1.ID, f.campaigns.FoldStateCounts, func() (string, int) {
			got, err := f.campaigns.EnrollmentStates(f.ctx, d.SQL, c1.ID)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(got), len(got)
		}, `INSERT INTO enrollment_state_counts (campaign_id, state, n) VALUES ($1, 'active', 0)`, c1.ID)
		check("the fold and the refused writes")
	})
}

// TestStepCountsFollowEveryWrite writes around the service with raw SQL —
// prospects started, moved on, paused, handed to another sender, ended,
// moved to another campaign, deleted, and an update that moves nobody —
// and after each compares each campaign's counts per sender and step with
// the enrollments themselves; folding changes no count; a delta cannot be
// edited (docs/storage.md#enrollment-step-counts).
func TestStepCountsFollowEveryWrite(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c1, c2 := f.create(t, f.a, f.b), f.create(t, f.a, f.b)
		var csv strings.Builder
		csv.WriteString("linkedin_url\n")
		for i := 0; i < 12; i++ {
			fmt.Fprintf(&csv, "https://www.linkedin.com/in/stepped-%d\n", i)
		}
		f.importCSV(t, c1, csv.String())
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := d.SQL.ExecContext(f.ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		counts := func(query, campaignID string) map[campaign.LiveCount]int {
			t.Helper()
			rows, err := d.SQL.QueryContext(f.ctx, query, campaignID)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			out := map[campaign.LiveCount]int{}
			for rows.Next() {
				var c campaign.LiveCount
				if err := rows.Scan(&c.AccountID, &c.StepID, &c.N); err != nil {
					t.Fatal(err)
				}
				out[campaign.LiveCount{AccountID: c.AccountID, StepID: c.StepID}] = c.N
			}
			return out
		}
		total := 0
		check := func(step string) {
			t.Helper()
			total = 0
			for _, c := range []campaign.Campaign{c1, c2} {
				list, err := f.campaigns.StepCounts(f.ctx, d.SQL, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				got := map[campaign.LiveCount]int{}
				for _, n := range list {
					got[campaign.LiveCount{AccountID: n.AccountID, StepID: n.StepID}] = n.N
				}
				want := counts(`SELECT account_id, step_id, count(*) FROM enrollments WHERE campaign_id = $1
					AND state IN ('active', 'soft_paused') GROUP BY account_id, step_id`, c.ID)
				if !maps.Equal(got, want) {
					t.Fatalf("after %s, campaign %s counts %v, enrollments say %v", step, c.ID, got, want)
				}
				for _, n := range want {
					total += n
				}
			}
		}
		check("the import (pending prospects are at no step)")
		some := func(campaignID, where string, n int) string {
			return `SELECT id FROM enrollments WHERE campaign_id = '` + campaignID + `' AND ` + where + ` ORDER BY id LIMIT ` + fmt.Sprint(n)
		}
		exec(`UPDATE enrollments SET state = 'active', step_id = 's1', next_action_at = $1 WHERE id IN (`+some(c1.ID, "state = 'pending'", 9)+`)`, start)
		check("starting nine in one statement")
		if total != 9 {
			t.Fatalf("%d prospects counted at a step, want 9", total)
		}
		exec(`UPDATE enrollments SET step_id = 's2' WHERE id IN (` + some(c1.ID, "state = 'active'", 4) + `)`)
		check("moving four on")
		exec(`UPDATE enrollments SET account_id = $1 WHERE id IN (`+some(c1.ID, "step_id = 's2'", 3)+`)`, f.b.ID)
		check("handing three to the other sender")
		exec(`UPDATE enrollments SET state = 'soft_paused' WHERE id IN (` + some(c1.ID, "step_id = 's1'", 2) + `)`)
		check("pausing two")
		exec(`UPDATE enrollments SET next_action_at = next_action_at, updated_at = updated_at WHERE campaign_id = $1`, c1.ID)
		check("an update that moves nobody")
		exec(`UPDATE enrollments SET state = 'ended', ended_reason = 'manual' WHERE id IN (` + some(c1.ID, "state = 'soft_paused'", 1) + `)`)
		exec(`UPDATE enrollments SET state = 'completed', step_id = NULL, next_action_at = NULL WHERE id IN (` + some(c1.ID, "step_id = 's2'", 1) + `)`)
		check("ending one and completing another")
		exec(`UPDATE enrollments SET campaign_id = $1 WHERE id IN (`+some(c1.ID, "step_id = 's1' AND state = 'active'", 2)+`)`, c2.ID)
		check("moving two to another campaign")
		exec(`DELETE FROM enrollments WHERE id IN (` + some(c2.ID, "state = 'active'", 1) + `)`)
		check("deleting one")
		if total != 6 {
			t.Fatalf("%d prospects counted at a step, want 6", total)
		}
		foldKeepsCounts(t, f, d, "enrollment_step_counts", c1.ID, f.campaigns.FoldStepCounts, func() (string, int) {
			got, err := f.campaigns.StepCounts(f.ctx, d.SQL, c1.ID)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(got), len(got)
		}, `INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n) VALUES ($1, $2, 's1', 0)`, c1.ID, f.a.ID)
		check("the fold and the refused writes")
	})
}

// TestMigrationCountsProspectsAtTheirSteps: migration 34 counts the
// prospects a database already holds at each sender's steps. (It adds no
// column the services write, so they build the data on the schema before.)
func TestMigrationCountsProspectsAtTheirSteps(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			d := dbtest.Open(t, e, dbtest.Options{MigrateTo: 33})
			f := newFixture(t, d)
			c := f.create(t, f.a, f.b)
			f.importCSV(t, c, "linkedin_url\nhttps://www.linkedin.com/in/m1\nhttps://www.linkedin.com/in/m2\nhttps://www.linkedin.com/in/m3\nhttps://www.linkedin.com/in/m4\n")
			for _, q := range []string{
				`UPDATE enrollments SET state = 'active', step_id = 's1', next_action_at = created_at WHERE campaign_id = $1`,
				`UPDATE enrollments SET step_id = 's3' WHERE campaign_id = $1 AND id = (SELECT min(id) FROM enrollments WHERE campaign_id = $1)`,
				`UPDATE enrollments SET state = 'ended', ended_reason = 'manual' WHERE campaign_id = $1 AND id = (SELECT max(id) FROM enrollments WHERE campaign_id = $1)`,
			} {
				if _, err := d.SQL.ExecContext(f.ctx, q, c.ID); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if _, err := d.Migrate(f.ctx); err != nil {
				t.Fatal(err)
			}
			got, err := f.campaigns.StepCounts(f.ctx, d.SQL, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			n := map[string]int{}
			for _, lc := range got {
				n[lc.StepID] += lc.N
			}
			if want := map[string]int{"s1": 2, "s3": 1}; !maps.Equal(n, want) {
				t.Fatalf("after the migration: %v per step, want %v", n, want)
			}
		})
	}
}

// foldKeepsCounts folds every delta of table that piled up and checks that
// the counts read (printed, and how many) are the same after, that
// campaignID keeps one row per count, and that a delta can be neither
// edited nor zero (emptyDelta, with args, tries to store one).
func foldKeepsCounts(t *testing.T, f *fixture, d *db.DB, table, campaignID string, fold func(context.Context, *sql.Tx, string) (int, error),
	read func() (string, int), emptyDelta string, args ...any) {
	t.Helper()
	before, _ := read()
	var folded int
	if err := d.InTx(f.ctx, func(tx *sql.Tx) error {
		var err error
		folded, err = fold(f.ctx, tx, "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if folded == 0 {
		t.Fatal("nothing folded although single changes appended deltas")
	}
	after, n := read()
	if before != after {
		t.Fatalf("the fold changed counts: %s → %s", before, after)
	}
	var rows int
	if err := d.SQL.QueryRowContext(f.ctx, `SELECT count(*) FROM `+table+` WHERE campaign_id = $1`, campaignID).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != n {
		t.Fatalf("after the fold campaign %s keeps %d rows of %s for %d counts", campaignID, rows, table, n)
	}
	if _, err := d.SQL.ExecContext(f.ctx, `UPDATE `+table+` SET n = n + 1 WHERE campaign_id = $1`, campaignID); err == nil ||
		!strings.Contains(err.Error(), table+"_immutable") {
		t.Fatalf("a count delta was edited: %v", err)
	}
	if _, err := d.SQL.ExecContext(f.ctx, emptyDelta, args...); !db.ViolatesConstraint(err, table+"_n_chk") {
		t.Fatalf("an empty delta was stored: %v", err)
	}
}
