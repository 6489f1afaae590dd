package send_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/workspace"
)

// binder numbers placeholders from after the given ones, as account.Page
// binds them.
func binder(args *[]any) func(any) string {
	return func(v any) string {
		*args = append(*args, v)
		return fmt.Sprintf("$%d", len(*args))
	}
}

// TestUsageSQLAgreesWithPolicy: the effective daily caps the overview
// orders by in SQL are policy.EffectiveDaily's, for every tier, ramp week
// (its edges, a start still to come, no recorded start) and caps around
// the ramp's floor, on both engines (docs/surfaces.md#accounts-overview).
func TestUsageSQLAgreesWithPolicy(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 20, 10, 30, 0, 0, time.UTC)
		svc := account.NewService(d, clock.NewFake(now.Add(-60*24*time.Hour)))
		ws, err := workspace.Create(ctx, d.SQL, "usage-sql", "", now)
		if err != nil {
			t.Fatal(err)
		}
		day := 24 * time.Hour
		starts := []*time.Time{nil}
		for _, off := range []time.Duration{-time.Hour, time.Hour, 7 * day, 7*day - time.Second, 7*day + time.Second, 13 * day, 14 * day,
			20 * day, 27 * day, 28*day + time.Minute, 34 * day, 35 * day, 100 * day} {
			at := now.Add(-off)
			starts = append(starts, &at)
		}
		capSets := [][5]int{{0, 0, 0, 0, 0}, {1, 3, 0, 4, 1}, {5, 6, 7, 9, 10}, {13, 17, 20, 29, 50}, {30, 150, 0, 100, 100}, {100, 99, 50, 33, 7}}
		tiers := []account.Tier{account.TierFree, account.TierPremium, account.TierSalesNavigator, account.TierRecruiter}
		n := 0
		for _, tier := range tiers {
			for _, start := range starts {
				for _, caps := range capSets {
					n++
					a, err := svc.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: fmt.Sprintf("usage-%d", n),
						Name: fmt.Sprintf("U%03d", n), Status: account.StatusConnected, Tier: tier})
					if err != nil {
						t.Fatal(err)
					}
					// A free account's ceilings are lower: its caps are clamped.
					ceil := account.Ceilings(tier)
					c := [5]int{min(caps[0], ceil.InviteDaily), min(caps[1], ceil.MessageDaily), min(caps[2], ceil.InMailDaily),
						min(caps[3], ceil.ViewProfileDaily), min(caps[4], ceil.WithdrawDaily)}
					if _, err := d.SQL.ExecContext(ctx, `UPDATE linkedin_accounts SET cap_invite_daily = $2, cap_message_daily = $3,
						cap_inmail_daily = $4, cap_view_profile_daily = $5, cap_withdraw_daily = $6, ramp_started_at = $7 WHERE id = $1`,
						a.ID, c[0], c[1], c[2], c[3], c[4], start); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		list, err := svc.List(ctx, d.SQL, account.ListOptions{WorkspaceID: ws.ID})
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]account.Account{}
		for _, a := range list {
			byID[a.ID] = a
		}
		for _, act := range policy.Actions {
			args := []any{ws.ID}
			expr := send.EffectiveDailySQL(act, "a", now, binder(&args))
			rows, err := d.SQL.QueryContext(ctx, `SELECT a.id, `+expr+` FROM linkedin_accounts a WHERE a.workspace_id = $1`, args...)
			if err != nil {
				t.Fatalf("%s: %v", act, err)
			}
			seen := 0
			for rows.Next() {
				var (
					id  string
					got int
				)
				if err := rows.Scan(&id, &got); err != nil {
					t.Fatal(err)
				}
				seen++
				a := byID[id]
				if want := policy.EffectiveDaily(a, act, now).Cap; got != want {
					t.Errorf("%s of %s (tier %s, caps %+v, ramp from %v, created %v): SQL %d, policy %d",
						act, a.Name, a.Tier, a.Caps, a.RampStartedAt, a.CreatedAt, got, want)
				}
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
			if seen != len(list) {
				t.Fatalf("%s: %d rows of %d accounts", act, seen, len(list))
			}
		}
	})
}

// TestUsageJoinOrdersThePage: sorting the overview by usage puts the
// highest share of an effective daily cap used today first (counted
// ledger states of today only), the accounts with no sends today after
// them by name, and filters and pages as any sort.
func TestUsageJoinOrdersThePage(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 20, 10, 30, 0, 0, time.UTC)
		c := clock.NewFake(now)
		svc := account.NewService(d, c)
		camps := campaign.NewService(d, c)
		ws, err := workspace.Create(ctx, d.SQL, "usage-order", "", now)
		if err != nil {
			t.Fatal(err)
		}
		names := []string{"Ada", "Bea", "Cy", "Dot", "Eve"}
		ids := map[string]string{}
		var all []string
		for _, name := range names {
			a, err := svc.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "uo-" + name, Name: name,
				Status: account.StatusConnected, Tier: account.TierPremium})
			if err != nil {
				t.Fatal(err)
			}
			// Out of the ramp: invitations 40 a day, messages 100.
			if _, err := d.SQL.ExecContext(ctx, `UPDATE linkedin_accounts SET ramp_started_at = $2, cap_invite_daily = 40,
				cap_message_daily = 100 WHERE id = $1`, a.ID, now.Add(-60*24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			ids[name] = a.ID
			all = append(all, a.ID)
		}
		cname := "usage"
		camp, err := camps.Create(ctx, ws.ID, campaign.Input{Name: &cname, AccountIDs: all, Steps: []campaign.Step{
			{ID: "i", Type: campaign.StepInvite}, {ID: "m", Type: campaign.StepMessage, Text: "hi"}}})
		if err != nil {
			t.Fatal(err)
		}
		var rows []campaign.ProspectRow
		for i := range 40 {
			rows = append(rows, campaign.ProspectRow{Row: i + 1, LinkedInURL: fmt.Sprintf("https://www.linkedin.com/in/usage-%d", i)})
		}
		if _, err := camps.Import(ctx, camp.ID, ws.ID, rows); err != nil {
			t.Fatal(err)
		}
		ens, err := camps.ListEnrollments(ctx, d.SQL, ws.ID, camp.ID, campaign.EnrollmentListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		next := 0
		// Eve: 10 invitations of 40 today (25%); Cy: 6 of 40 (15%) and
		// yesterday's do not count; Dot: only a cancelled one today.
		insert := func(name, action, state string, at time.Time) {
			t.Helper()
			en := ens[next]
			next++
			step := map[string]string{"invite": "i", "message": "m"}[action]
			var errText, finished any
			if state == "cancelled" {
				errText, finished = "cancelled by the test", at
			}
			if _, err := d.SQL.ExecContext(ctx, `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id,
				step_id, action, state, claimed_at, error, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
				fmt.Sprintf("snd_usage_%d", next), ws.ID, ids[name], camp.ID, en.ID, en.ProspectID, step, action, state, at, errText, finished); err != nil {
				t.Fatalf("send %d: %v", next, err)
			}
		}
		for range 10 {
			insert("Eve", "invite", "intent", now.Add(-time.Hour))
		}
		for range 6 {
			insert("Cy", "invite", "intent", now.Add(-2*time.Hour))
		}
		for range 8 {
			insert("Cy", "invite", "intent", now.Add(-20*time.Hour))
		}
		insert("Dot", "invite", "cancelled", now.Add(-time.Hour))
		page := func(f account.PageFilter) []string {
			t.Helper()
			f.WorkspaceID, f.ByUsage = ws.ID, send.UsageJoin(ws.ID, now)
			if f.Limit == 0 {
				f.Limit = 50
			}
			accs, _, err := svc.Page(ctx, d.SQL, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, a := range accs {
				out = append(out, a.Name)
			}
			return out
		}
		if got := page(account.PageFilter{}); !slices.Equal(got, []string{"Eve", "Cy", "Ada", "Bea", "Dot"}) {
			t.Fatalf("by usage: %v", got)
		}
		if got := page(account.PageFilter{Search: "e", Offset: 1, Limit: 1}); !slices.Equal(got, []string{"Bea"}) {
			t.Fatalf("filtered and paged by usage: %v", got)
		}
	})
}
