package campaign_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestOneLiveSequenceInTheDatabase writes around the service with raw SQL:
// a second live enrollment of one person in the workspace is refused by
// the database, whether inserted or made live by an update, until the
// first one ends (docs/contacts.md#one-live-sequence).
func TestOneLiveSequenceInTheDatabase(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c1, c2 := f.create(t, f.a), f.create(t, f.a)
		f.importCSV(t, c1, "linkedin_url\nhttps://www.linkedin.com/in/ada\n")
		first := f.enrollments(t, c1)[0]
		exec := func(q string, args ...any) error {
			_, err := d.SQL.ExecContext(f.ctx, q, args...)
			return err
		}
		insert := `INSERT INTO enrollments (id, workspace_id, campaign_id, prospect_id, account_id, state, ended_reason, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`
		if err := exec(insert, "enr_second", f.ws.ID, c2.ID, first.ProspectID, f.a.ID, "pending", nil, start); !db.IsUniqueViolation(err) {
			t.Fatalf("a second live enrollment was inserted: %v", err)
		}
		if err := exec(insert, "enr_second", f.ws.ID, c2.ID, first.ProspectID, f.a.ID, "ended", "manual", start); err != nil {
			t.Fatalf("a finished enrollment beside a live one: %v", err)
		}
		if err := exec(`UPDATE enrollments SET state = 'pending', ended_reason = NULL, ended_at = NULL WHERE id = 'enr_second'`); !db.IsUniqueViolation(err) {
			t.Fatalf("a second enrollment was made live: %v", err)
		}
		if err := exec(`UPDATE enrollments SET ended_at = $2 WHERE id = $1`, first.ID, start); !db.ViolatesConstraint(err, "enrollments_ended_at_chk") {
			t.Fatalf("a live enrollment took an end time: %v", err)
		}
		later := start.Add(time.Hour)
		if err := exec(`UPDATE enrollments SET state = 'ended', ended_reason = 'manual', updated_at = $2 WHERE id = $1`, first.ID, later); err != nil {
			t.Fatal(err)
		}
		var ended sql.NullTime
		if err := d.SQL.QueryRowContext(f.ctx, `SELECT ended_at FROM enrollments WHERE id = $1`, first.ID).Scan(&ended); err != nil ||
			!ended.Valid || !ended.Time.Equal(later) {
			t.Fatalf("ended_at of the ended enrollment: %v %v, want %v", ended, err, later)
		}
		if err := exec(`UPDATE enrollments SET state = 'pending', ended_reason = NULL, ended_at = NULL WHERE id = 'enr_second'`); err != nil {
			t.Fatalf("once the first ended, the second may be live: %v", err)
		}
	})
}

// TestImportWhoKeelContacts: an import enrolls nobody live in another
// campaign of the workspace, nobody who replied, and nobody within the
// re-contact cool-off; the other rows proceed
// (docs/contacts.md#one-live-sequence, #recontact-cooloff).
func TestImportWhoKeelContacts(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c1, c2 := f.create(t, f.a), f.create(t, f.b)
		f.importCSV(t, c1, "linkedin_url\nhttps://www.linkedin.com/in/ada\nhttps://www.linkedin.com/in/bob\n")

		res := f.importCSV(t, c2, "linkedin_url\nhttps://www.linkedin.com/in/ada\nhttps://www.linkedin.com/in/carl\nhttps://www.linkedin.com/in/carl\n")
		want := []string{campaign.RowInOtherCampaign, campaign.RowImported, campaign.RowDuplicate}
		for i, w := range want {
			if res.Rows[i].Status != w {
				t.Fatalf("row %d: %+v, want %s", i+1, res.Rows[i], w)
			}
		}
		if res.Rows[0].CampaignID != c1.ID || res.Imported != 1 || res.Skipped != 2 {
			t.Fatalf("in_other_campaign must name campaign %s: %+v", c1.ID, res)
		}

		// A person known by the member id and handle resolved when Keel
		// addressed them is found by either.
		carl := res.Rows[1].ProspectID
		if err := d.InTx(f.ctx, func(tx *sql.Tx) error {
			return f.campaigns.RecordResolved(f.ctx, tx, carl, "ACoAAcarlmember", "carl-renamed", f.clock.Now())
		}); err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{"provider_id\nACoAAcarlmember\n", "linkedin_url\nhttps://www.linkedin.com/in/carl-renamed\n"} {
			r := f.importCSV(t, c1, body)
			if r.Rows[0].Status != campaign.RowInOtherCampaign || r.Rows[0].CampaignID != c2.ID {
				t.Fatalf("%q: %+v", body, r)
			}
		}

		// Bob replies in c1; his sequence is over and no import takes him
		// again, whatever the cool-off.
		bob := f.enrollments(t, c1)
		var bobEnr campaign.Enrollment
		for _, e := range bob {
			if strings.HasSuffix(e.LinkedInURL, "/bob") {
				bobEnr = e
			}
		}
		if err := d.InTx(f.ctx, func(tx *sql.Tx) error {
			if err := f.campaigns.MarkReplied(f.ctx, tx, bobEnr.ID, f.clock.Now()); err != nil {
				return err
			}
			return f.campaigns.StopOnReply(f.ctx, tx, bobEnr.ID, f.clock.Now())
		}); err != nil {
			t.Fatal(err)
		}

		// Ada's sequence in c1 ends: the cool-off (30 days by default)
		// starts then.
		if _, err := f.campaigns.Archive(f.ctx, f.ws.ID, c1.ID); err != nil {
			t.Fatal(err)
		}
		endedAt := f.clock.Now()
		c3 := f.create(t, f.a)
		body := "linkedin_url\nhttps://www.linkedin.com/in/ada\nhttps://www.linkedin.com/in/bob\n"
		r := f.importCSV(t, c3, body)
		until := endedAt.AddDate(0, 0, 30).UTC().Format(time.RFC3339)
		if r.Rows[0].Status != campaign.RowRecentlyContacted || !strings.Contains(r.Rows[0].Error, until) {
			t.Fatalf("ada within the cool-off: %+v (want until %s)", r.Rows[0], until)
		}
		if r.Rows[1].Status != campaign.RowReplied {
			t.Fatalf("bob replied: %+v", r.Rows[1])
		}
		if err := workspace.SetRecontact(f.ctx, d.SQL, f.ws.ID, workspace.Recontact{Never: true}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(400 * 24 * time.Hour)
		r = f.importCSV(t, c3, body)
		if r.Rows[0].Status != campaign.RowRecentlyContacted || !strings.Contains(r.Rows[0].Error, "never") {
			t.Fatalf("ada with a cool-off of never: %+v", r.Rows[0])
		}
		if err := workspace.SetRecontact(f.ctx, d.SQL, f.ws.ID, workspace.Recontact{CooloffDays: 30}); err != nil {
			t.Fatal(err)
		}
		r = f.importCSV(t, c3, body)
		if r.Rows[0].Status != campaign.RowImported || r.Rows[1].Status != campaign.RowReplied {
			t.Fatalf("after the cool-off: %+v", r.Rows)
		}
		got, err := workspace.ReadSettings(f.ctx, d.SQL, f.ws.ID)
		if err != nil || got.Recontact != (workspace.Recontact{CooloffDays: 30}) {
			t.Fatalf("settings: %+v %v", got, err)
		}
	})
}

// TestConcurrentImportsKeepOneLiveSequence: an import racing another
// transaction that makes the same person live reports the row as
// in_other_campaign instead of failing (PostgreSQL; SQLite has one
// writer at a time).
func TestConcurrentImportsKeepOneLiveSequence(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, db.Postgres, dbtest.Options{})
	f := newFixture(t, d)
	c1, c2 := f.create(t, f.a), f.create(t, f.a)
	if _, err := d.SQL.ExecContext(f.ctx, `INSERT INTO prospects (id, workspace_id, provider_id, created_at, updated_at)
		VALUES ('prs_race', $1, 'ACoAArace', $2, $2)`, f.ws.ID, start); err != nil {
		t.Fatal(err)
	}
	tx, err := d.SQL.BeginTx(f.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(f.ctx, `INSERT INTO enrollments (id, workspace_id, campaign_id, prospect_id, account_id, state, created_at, updated_at)
		VALUES ('enr_race', $1, $2, 'prs_race', $3, 'pending', $4, $4)`, f.ws.ID, c1.ID, f.a.ID, start); err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		res campaign.ImportResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := f.campaigns.Import(f.ctx, c2.ID, f.ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAArace"}, {Row: 2, ProviderID: "ACoAAcalm"}})
		done <- outcome{res, err}
	}()
	// Wait until the import waits on the first transaction's enrollment.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := d.SQL.QueryRowContext(f.ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO enrollments%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		select {
		case o := <-done:
			t.Fatalf("the import finished before the race: %+v %v", o.res, o.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the import never waited on the other transaction")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	if r := o.res.Rows; r[0].Status != campaign.RowInOtherCampaign || r[0].CampaignID != c1.ID || r[1].Status != campaign.RowImported {
		t.Fatalf("%+v", o.res)
	}
}

// TestMigrationEndsExtraLiveSequences: a database that already holds
// several live enrollments of one person keeps the oldest and ends the
// others (in_other_campaign) when migration 25 adds the rule.
func TestMigrationEndsExtraLiveSequences(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d := dbtest.Open(t, e, dbtest.Options{MigrateTo: 24})
			ws, err := workspace.Create(ctx, d.SQL, "dupes", "", start)
			if err != nil {
				t.Fatal(err)
			}
			// Rows as the schema of migration 24 has them: raw SQL, since the
			// services write the columns of the newest schema.
			if _, err := d.SQL.ExecContext(ctx, `INSERT INTO linkedin_accounts (id, workspace_id, provider_account_id, name, status,
				tier, timezone, created_at, updated_at) VALUES ('acc_dupes', $1, 'u-dupes', 'a', 'connected', 'free', 'UTC', $2, $2)`,
				ws.ID, start); err != nil {
				t.Fatal(err)
			}
			a := struct{ ID string }{"acc_dupes"}
			var camps []string
			for i := 0; i < 4; i++ {
				id := fmt.Sprintf("cmp_dup%d", i)
				if _, err := d.SQL.ExecContext(ctx, `INSERT INTO campaigns (id, workspace_id, name, status, steps, cap_invite, cap_message,
					cap_inmail, cap_view_profile, created_at, updated_at)
					VALUES ($1, $2, 'c', 'draft', '[{"id":"s1","type":"invite"}]', 20, 20, 5, 20, $3, $3)`, id, ws.ID, start); err != nil {
					t.Fatal(err)
				}
				if _, err := d.SQL.ExecContext(ctx, `INSERT INTO campaign_accounts (campaign_id, account_id, workspace_id, position, added_at)
					VALUES ($1, $2, $3, 0, $4)`, id, a.ID, ws.ID, start); err != nil {
					t.Fatal(err)
				}
				camps = append(camps, id)
			}
			if _, err := d.SQL.ExecContext(ctx, `INSERT INTO prospects (id, workspace_id, provider_id, created_at, updated_at)
				VALUES ('prs_dup', $1, 'ACoAAdup', $2, $2)`, ws.ID, start); err != nil {
				t.Fatal(err)
			}
			for i, row := range []struct {
				id, state, reason string
				created           time.Time
			}{
				{"enr_b", "pending", "", start.Add(time.Hour)},
				{"enr_a", "pending", "", start.Add(2 * time.Hour)},
				{"enr_oldest", "pending", "", start},
				{"enr_done", "completed", "", start.Add(-time.Hour)},
			} {
				if _, err := d.SQL.ExecContext(ctx, `INSERT INTO enrollments (id, workspace_id, campaign_id, prospect_id, account_id, state, created_at, updated_at)
					VALUES ($1, $2, $3, 'prs_dup', $4, $5, $6, $6)`, row.id, ws.ID, camps[i], a.ID, row.state, row.created); err != nil {
					t.Fatal(err)
				}
				if row.id == "enr_a" {
					// One of the extra ones is under way and parked by a gate.
					if _, err := d.SQL.ExecContext(ctx, `UPDATE enrollments SET state = 'active', step_id = 's1', next_action_at = $2,
						parked_by = 'window' WHERE id = $1`, row.id, start); err != nil {
						t.Fatal(err)
					}
				}
			}
			if _, err := d.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for id, want := range map[string]string{"enr_oldest": "pending", "enr_a": "ended:in_other_campaign",
				"enr_b": "ended:in_other_campaign", "enr_done": "completed"} {
				var (
					state  string
					reason sql.NullString
					ended  sql.NullTime
				)
				if err := d.SQL.QueryRowContext(ctx, `SELECT state, ended_reason, ended_at FROM enrollments WHERE id = $1`, id).
					Scan(&state, &reason, &ended); err != nil {
					t.Fatal(err)
				}
				got := state
				if reason.Valid {
					got += ":" + reason.String
				}
				if got != want || ended.Valid != (state != "pending") {
					t.Errorf("%s: %s (ended_at %v), want %s", id, got, ended, want)
				}
			}
		})
	}
}
