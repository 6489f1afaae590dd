package campaign_test

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestParkedEnrollmentsAreReevaluated: what a gate parked (DeferGroup)
// becomes due at once when a campaign resumes, its sender reconnects or
// the sender's gate settings change; what anything else deferred keeps its
// time (docs/sending.md#re-evaluation).
func TestParkedEnrollmentsAreReevaluated(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.accounts.OnSettingsChanged("campaigns", f.campaigns.OnAccountSettings)
		c := f.create(t, f.a)
		f.importCSV(t, c, "linkedin_url,first_name\nhttps://www.linkedin.com/in/ada,Ada\nhttps://www.linkedin.com/in/bob,Bob\n")
		if _, err := f.campaigns.Start(f.ctx, f.ws.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		list := f.enrollments(t, c)
		parkedID, deferredID := list[0].ID, list[1].ID
		inTx := func(fn func(tx *sql.Tx) error) {
			t.Helper()
			if err := d.InTx(f.ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		park := func() {
			t.Helper()
			f.clock.Advance(time.Minute)
			now := f.clock.Now()
			inTx(func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(f.ctx, `UPDATE enrollments SET next_action_at = $2 WHERE id = $1`, parkedID, now); err != nil {
					return err
				}
				return f.campaigns.DeferGroup(f.ctx, tx, campaign.StepGroup{AccountID: f.a.ID, CampaignID: c.ID, StepID: "s1"},
					"window_closed", now.Add(20*time.Hour), now)
			})
		}
		state := func(id string) (time.Time, string) {
			t.Helper()
			var next sql.NullTime
			var by sql.NullString
			if err := d.SQL.QueryRowContext(f.ctx, `SELECT next_action_at, parked_by FROM enrollments WHERE id = $1`, id).Scan(&next, &by); err != nil {
				t.Fatal(err)
			}
			return next.Time.UTC(), by.String
		}
		dueNow := func(what string) {
			t.Helper()
			next, by := state(parkedID)
			if !next.Equal(f.clock.Now()) || by != "" {
				t.Fatalf("after %s the parked prospect is due at %v (parked by %q), want now %v", what, next, by, f.clock.Now())
			}
		}

		// Both are parked by the gate; then one is deferred for another
		// reason (a send in flight) and is parked by nothing.
		park()
		if _, by := state(deferredID); by != "window_closed" {
			t.Fatalf("DeferGroup parked by %q", by)
		}
		recheck := f.clock.Now().Add(time.Hour)
		inTx(func(tx *sql.Tx) error { return f.campaigns.Defer(f.ctx, tx, deferredID, recheck, f.clock.Now()) })
		keeps := func(what string) {
			t.Helper()
			if next, by := state(deferredID); !next.Equal(recheck) || by != "" {
				t.Fatalf("after %s the deferred prospect is due at %v (parked by %q), want %v", what, next, by, recheck)
			}
		}
		keeps("the defer")

		t.Run("Resume", func(t *testing.T) {
			if _, err := f.campaigns.Pause(f.ctx, f.ws.ID, c.ID); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Minute)
			if _, err := f.campaigns.Resume(f.ctx, f.ws.ID, c.ID); err != nil {
				t.Fatal(err)
			}
			dueNow("a resume")
			keeps("a resume")
		})
		t.Run("Reconnect", func(t *testing.T) {
			park()
			f.disconnect(t, f.a, account.StatusDisconnected)
			if _, by := state(parkedID); by != "window_closed" {
				t.Fatalf("a soft-paused prospect lost its parking: %q", by)
			}
			f.clock.Advance(time.Minute)
			f.reconnect(t, f.a)
			dueNow("a reconnect")
			keeps("a reconnect")
		})
		t.Run("SettingsChange", func(t *testing.T) {
			park()
			f.clock.Advance(time.Minute)
			if _, err := f.accounts.UpdateSettings(f.ctx, f.ws.ID, f.a.ID, account.SettingsPatch{Actor: "test"}); err != nil {
				t.Fatal(err)
			}
			if _, by := state(parkedID); by != "window_closed" {
				t.Fatal("a patch that changes nothing re-evaluated the parked prospect")
			}
			tz := "Europe/Paris"
			if _, err := f.accounts.UpdateSettings(f.ctx, f.ws.ID, f.a.ID, account.SettingsPatch{Timezone: &tz, Actor: "test"}); err != nil {
				t.Fatal(err)
			}
			dueNow("a timezone change")
			keeps("a timezone change")
		})
		t.Run("RefusedSettingsChangeMovesNothing", func(t *testing.T) {
			park()
			before, _ := state(parkedID)
			f.clock.Advance(time.Minute)
			tz, tooLong := "Asia/Tokyo", 4000
			_, err := f.accounts.UpdateSettings(f.ctx, f.ws.ID, f.a.ID, account.SettingsPatch{Timezone: &tz,
				Pacing: &account.PacingPatch{MaxGapSeconds: &tooLong}, Actor: "test"})
			var ve *account.ValidationError
			if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "pacing.max_gap_seconds" {
				t.Fatalf("a gap above an hour: %v", err)
			}
			if next, by := state(parkedID); !next.Equal(before) || by != "window_closed" {
				t.Fatalf("a refused change moved the parked prospect to %v (%q)", next, by)
			}
		})
	})
}
