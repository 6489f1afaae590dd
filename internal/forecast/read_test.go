package forecast_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/forecast"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestReadCountsWhatTheHorizonCannotReach checks that the forecast read
// as Read does it (the prospects beyond the horizon only counted) gives
// the very forecast of the full listing of live prospects, on a campaign
// with prospects at every kind of step, due within and beyond the
// horizon, with and without signals, pending, soft-paused (with and
// without a due time), at a removed step; with and without stop on reply.
func TestReadCountsWhatTheHorizonCannotReach(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := clock.NewFake(monday.Add(10 * time.Hour))
		accounts, camps := account.NewService(d, c), campaign.NewService(d, c)
		ws, err := workspace.Create(ctx, d.SQL, "fc", "", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for i, tz := range []string{"Europe/Paris", "America/New_York"} {
			a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "prov_" + tz,
				Name: tz, Status: account.StatusConnected, Tier: []account.Tier{account.TierPremium, account.TierFree}[i%2], Timezone: tz})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, a.ID)
		}
		name := "fast"
		camp, err := camps.Create(ctx, ws.ID, campaign.Input{Name: &name, AccountIDs: ids, Steps: benchSteps})
		if err != nil {
			t.Fatal(err)
		}
		rows := make([]campaign.ProspectRow, 600)
		for i := range rows {
			rows[i] = campaign.ProspectRow{Row: i + 1, ProviderID: "ACoAAr" + string(rune('a'+i%26)) + string(rune('a'+i/26)), FirstName: "P"}
		}
		if res, err := camps.Import(ctx, camp.ID, ws.ID, rows); err != nil || res.Imported != len(rows) {
			t.Fatalf("import: %+v %v", res, err)
		}
		if _, err := camps.Start(ctx, ws.ID, camp.ID); err != nil {
			t.Fatal(err)
		}
		live, err := camps.LiveEnrollments(ctx, d.SQL, camp.ID)
		if err != nil || len(live) != len(rows) {
			t.Fatalf("live: %d %v", len(live), err)
		}
		now, hour, day := c.Now(), time.Hour, 24*time.Hour
		at := func(d time.Duration) any { return now.Add(d) }
		// Where each prospect stands: a step, a due time, and when it
		// accepted and replied (nil: not yet).
		kinds := []struct {
			state, step       string
			due, acc, replied any
		}{
			{"pending", "", nil, nil, nil},
			{"active", "view", at(hour), nil, nil},
			{"active", "invite", at(20 * day), nil, nil},
			{"active", "invite", at(3 * day), nil, nil},
			{"active", "accepted", at(30 * day), at(-hour), nil},
			{"active", "accepted", at(5 * day), nil, nil},
			{"active", "accepted", at(2 * day), nil, nil},
			{"active", "thanks", at(2 * day), at(-day), nil},
			{"active", "wait", at(40 * day), at(-day), nil},
			{"active", "wait", at(day), at(-day), nil},
			{"soft_paused", "nudge", at(20 * day), at(-day), nil},
			{"active", "nudge", at(20 * day), at(-day), at(-2 * hour)},
			{"active", "nudge", at(20 * day), at(-day), at(16 * day)},
			{"active", "replied", at(3 * day), at(-day), at(-hour)},
			{"active", "replied", at(25 * day), at(-day), nil},
			{"active", "thanks", at(13*day + 13*hour), at(-day), nil},
			{"active", "thanks", at(14*day - 10*hour), at(-day), nil},
			{"soft_paused", "thanks", nil, at(-day), nil},
			{"soft_paused", "wait", nil, at(-day), at(-hour)},
		}
		for i, e := range live {
			k := kinds[i%len(kinds)]
			step := any(k.step)
			if k.step == "" {
				step = nil
			}
			acct := ids[i%2]
			if i%41 == 3 && k.state != "pending" {
				step = "gone" // a step since removed
			}
			if _, err := d.SQL.ExecContext(ctx, `UPDATE enrollments SET state = $2, step_id = $3, next_action_at = $4,
				accepted_at = $5, replied_at = $6, account_id = $7 WHERE id = $1`, e.ID, k.state, step, k.due, k.acc, k.replied, acct); err != nil {
				t.Fatal(err)
			}
		}
		if camp, err = camps.Get(ctx, d.SQL, ws.ID, camp.ID); err != nil {
			t.Fatal(err)
		}
		deps := forecast.Deps{DB: d, Accounts: accounts, Campaigns: camps}
		for _, stop := range []bool{false, true} {
			for _, days := range []int{14, 3, 90} {
				camp.StopOnReply = stop
				in, err := forecast.Read(ctx, deps, camp, c.Now(), days)
				if err != nil {
					t.Fatal(err)
				}
				if len(in.Later) == 0 && days < 90 {
					t.Fatalf("stop %v, %d days: nothing counted beyond the horizon", stop, days)
				}
				// With stop on reply, a reply ends a prospect wherever it
				// stands, so the replied ones are listed whenever due.
				repliedLater := 0
				for _, e := range in.Enrollments {
					if !e.RepliedAt.IsZero() && !e.NextActionAt.Before(forecast.HorizonEnd(c.Now(), days)) && (e.StepID == "nudge" || e.StepID == "wait") {
						repliedLater++
					}
				}
				if days < 90 && (repliedLater > 0) != stop {
					t.Fatalf("stop %v, %d days: %d replied prospects due beyond the horizon listed", stop, days, repliedLater)
				}
				full := in
				if full.Enrollments, err = camps.LiveEnrollments(ctx, d.SQL, camp.ID); err != nil {
					t.Fatal(err)
				}
				full.Later = nil
				counted := 0
				for _, n := range in.Later {
					counted += n.N
				}
				gone := 0 // at a removed step: left out
				for _, e := range full.Enrollments {
					if e.StepID == "gone" {
						gone++
					}
				}
				if gone == 0 || len(in.Enrollments)+counted+gone != len(full.Enrollments) {
					t.Fatalf("stop %v, %d days: %d listed + %d counted + %d at a removed step, want %d live",
						stop, days, len(in.Enrollments), counted, gone, len(full.Enrollments))
				}
				got, want := forecast.Simulate(in), forecast.Simulate(full)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("stop %v, %d days: the counted read forecasts\n%+v\nthe full listing\n%+v", stop, days, got, want)
				}
				if want.Decisions == 0 || want.Assumptions.LiveProspects == 0 {
					t.Fatalf("stop %v, %d days: a trivial forecast %+v", stop, days, want)
				}
			}
		}
	})
}
