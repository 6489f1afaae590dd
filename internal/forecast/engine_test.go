package forecast_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/forecast"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/workspace"
)

// worldStart is a Monday, 00:00 UTC.
var worldStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// world is the real engine against the fake Unipile server on a fake clock.
type world struct {
	ctx      context.Context
	d        *db.DB
	clock    *clock.Fake
	fake     *fake.Server
	accounts *account.Service
	camps    *campaign.Service
	engine   *send.Engine
	ws       workspace.Workspace
	senders  []worldSender
}

type worldSender struct {
	acc      account.Account
	provider string
}

func newWorld(t *testing.T, d *db.DB, seed uint64, pacing *policy.Pacing) *world {
	t.Helper()
	ctx := context.Background()
	c := clock.NewFake(worldStart)
	f := fake.New(fake.Options{Clock: c})
	if err := f.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	client, err := unipile.New(unipile.Options{BaseURL: f.URL(), APIKey: f.APIKey()})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{ctx: ctx, d: d, clock: c, fake: f, accounts: account.NewService(d, c), camps: campaign.NewService(d, c)}
	w.accounts.OnFlip("campaigns", w.camps.OnAccountFlip)
	if w.engine, err = send.New(send.Options{DB: d, Accounts: w.accounts, Campaigns: w.camps, Client: client, Clock: c, Seed: seed, Pacing: pacing}); err != nil {
		t.Fatal(err)
	}
	if w.ws, err = workspace.Create(ctx, d.SQL, "fc", "", c.Now()); err != nil {
		t.Fatal(err)
	}
	return w
}

// addSender creates a connected account whose ramp started rampWeeksAgo
// weeks before the start, with the given window days and caps.
func (w *world) addSender(t *testing.T, name string, tier account.Tier, tz string, rampWeeksAgo int, days []string, caps account.CapsPatch) worldSender {
	t.Helper()
	credits := 100
	pid := w.fake.AddAccount(fake.AccountSpec{Name: name, InMailCredits: &credits})
	a, err := w.accounts.Create(w.ctx, w.d.SQL, account.NewAccount{WorkspaceID: w.ws.ID, ProviderAccountID: pid, Name: name,
		Status: account.StatusConnected, Tier: tier, Timezone: tz})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.d.SQL.ExecContext(w.ctx, `UPDATE linkedin_accounts SET ramp_started_at = $2 WHERE id = $1`,
		a.ID, worldStart.Add(-time.Duration(rampWeeksAgo)*7*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if a, err = w.accounts.UpdateSettings(w.ctx, w.ws.ID, a.ID, account.SettingsPatch{
		Window: &account.WindowSpec{Days: days, Start: "09:00", End: "18:00"}, Caps: &caps}); err != nil {
		t.Fatal(err)
	}
	s := worldSender{acc: a, provider: pid}
	w.senders = append(w.senders, s)
	return s
}

func (w *world) addCampaign(t *testing.T, steps []campaign.Step, prospects int, accountIDs []string) campaign.Campaign {
	t.Helper()
	name := "forecast"
	// Campaign shares at the ceilings, so the accounts' own caps bind.
	inv, msg, inm, view := 100, 150, 50, 100
	c, err := w.camps.Create(w.ctx, w.ws.ID, campaign.Input{Name: &name, AccountIDs: accountIDs, Steps: steps,
		DailyCaps: &campaign.CapsInput{Invite: &inv, Message: &msg, InMail: &inm, ViewProfile: &view}})
	if err != nil {
		t.Fatalf("creating campaign: %v", err)
	}
	rows := make([]campaign.ProspectRow, prospects)
	for i := range rows {
		pid := fmt.Sprintf("ACoAAfc%05d", i)
		w.fake.AddPerson(fake.Person{ProviderID: pid, PublicIdentifier: fmt.Sprintf("fc-%d", i), FirstName: fmt.Sprintf("P%d", i)})
		rows[i] = campaign.ProspectRow{Row: i + 1, ProviderID: pid, FirstName: fmt.Sprintf("P%d", i)}
	}
	if res, err := w.camps.Import(w.ctx, c.ID, w.ws.ID, rows); err != nil || res.Imported != prospects {
		t.Fatalf("importing prospects: %+v %v", res, err)
	}
	if c, err = w.camps.Start(w.ctx, w.ws.ID, c.ID); err != nil {
		t.Fatalf("starting campaign: %v", err)
	}
	return c
}

// run runs the engine's scheduler pass every minute for days days. The
// prospects answer as the forecast assumes: each sender's k-th invitation
// is accepted, AcceptAfter after it was sent, when forecast.Thinned(k,
// rate) says so. Minutes in which no sender can act and no accept falls
// are skipped: a pass then changes nothing.
func (w *world) run(t *testing.T, days int, rates forecast.Rates) {
	t.Helper()
	end := worldStart.Add(time.Duration(days) * 24 * time.Hour)
	for now := w.clock.Now(); now.Before(end); {
		if _, err := w.engine.RunPass(w.ctx); err != nil {
			t.Fatalf("pass at %v: %v", now, err)
		}
		nextAccept := w.accept(t, now, rates)
		next := w.nextAct(t)
		if !nextAccept.IsZero() && (next.IsZero() || nextAccept.Before(next)) {
			next = nextAccept
		}
		if next.IsZero() {
			return
		}
		if r := next.Sub(worldStart) % time.Minute; r > 0 {
			next = next.Add(time.Minute - r)
		}
		if !next.After(now) {
			next = now.Add(time.Minute)
		}
		w.clock.Set(next)
		now = next
	}
}

// accept stamps the accepts due by now and returns when the next one falls.
func (w *world) accept(t *testing.T, now time.Time, rates forecast.Rates) time.Time {
	t.Helper()
	var next time.Time
	for _, s := range w.senders {
		for k, inv := range w.fake.Invitations(s.provider) {
			if inv.State != "pending" || !forecast.Thinned(k+1, rates.Accept) {
				continue
			}
			at := inv.SentAt.Add(rates.AcceptAfter)
			if at.After(now) {
				if next.IsZero() || at.Before(next) {
					next = at
				}
				continue
			}
			if err := w.fake.Accept(inv.ID); err != nil {
				t.Fatal(err)
			}
			err := w.d.InTx(w.ctx, func(tx *sql.Tx) error {
				_, err := w.engine.StampAccepted(w.ctx, tx, send.AcceptSignal{WorkspaceID: w.ws.ID, AccountID: s.acc.ID,
					ProviderID: inv.ProviderID, Source: "simulation"})
				return err
			})
			if err != nil {
				t.Fatalf("stamping accept: %v", err)
			}
		}
	}
	return next
}

// nextAct is the earliest time a sender both may act and has something due.
func (w *world) nextAct(t *testing.T) time.Time {
	t.Helper()
	var next time.Time
	for _, s := range w.senders {
		var due, allowed db.NullTime
		if err := w.d.SQL.QueryRowContext(w.ctx, `SELECT MIN(next_action_at) FROM enrollments WHERE account_id = $1 AND state = 'active'`,
			s.acc.ID).Scan(&due); err != nil {
			t.Fatal(err)
		}
		if !due.Valid {
			continue
		}
		err := w.d.SQL.QueryRowContext(w.ctx, `SELECT next_allowed_at FROM account_pacing WHERE account_id = $1`, s.acc.ID).Scan(&allowed)
		if err != nil && !db.IsNoRows(err) {
			t.Fatal(err)
		}
		at := due.Time.UTC()
		if allowed.Valid && allowed.Time.After(at) {
			at = allowed.Time.UTC()
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next
}

var callActions = map[string]policy.Action{
	fake.ActionInvite: policy.ActionInvite, fake.ActionStartChat: policy.ActionMessage, fake.ActionSendMessage: policy.ActionMessage,
	fake.ActionInMail: policy.ActionInMail, fake.ActionViewProfile: policy.ActionViewProfile,
}

// perDay counts the fake's applied calls per UTC day and action, across
// senders ("") and per sender account id.
func (w *world) perDay(days int) []map[string]map[string]int {
	out := make([]map[string]map[string]int, days)
	for i := range out {
		out[i] = map[string]map[string]int{"": {}}
	}
	byProvider := map[string]string{}
	for _, s := range w.senders {
		byProvider[s.provider] = s.acc.ID
	}
	for _, c := range w.fake.Calls() {
		act, ok := callActions[c.Action]
		if !ok || !c.Applied {
			continue
		}
		if d := int(c.Time.UTC().Sub(worldStart) / (24 * time.Hour)); d >= 0 && d < days {
			out[d][""][string(act)]++
			acc := byProvider[c.AccountID]
			if out[d][acc] == nil {
				out[d][acc] = map[string]int{}
			}
			out[d][acc][string(act)]++
		}
	}
	return out
}

// within is the comparison of one day's count: 5% of the larger count,
// or one action when that is less than one (a day with fewer than 20 of an
// action: one action passing a window edge or midnight a minute earlier
// or later in one run than in the other is a whole action there).
func within(forecast, engine int) bool {
	diff := math.Abs(float64(forecast - engine))
	return diff <= math.Max(0.05*float64(max(forecast, engine)), 1)
}

// TestForecastMatchesEngine forecasts a 3-sender, 500-prospect campaign for
// 14 days, then runs the real engine (fake clock, fake Unipile, fixed
// seed) for those 14 days with the prospects answering as assumed, and
// compares the actions per day and type across senders, the finish date
// and the steps' reach dates.
func TestForecastMatchesEngine(t *testing.T) {
	t.Parallel()
	const days, prospects = 14, 500
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		if testing.Short() {
			t.Skip("runs the engine for 14 simulated days")
		}
		// Both runs keep one fixed gap between a sender's actions: with the
		// spread over the window, the engine draws each gap at random, and
		// where a day's last actions fall decides what the next day starts
		// with (a few invitations more or less, then twenty profile views
		// more or less), so two engine runs with different seeds differ by
		// more than 5% on some days. The forecast takes the middle of the
		// range; what this test checks is the rest of the mechanics.
		pacing := &policy.Pacing{MinGap: 4 * time.Minute, MaxGap: 4 * time.Minute}
		w, camp := acceptanceWorld(t, d, pacing)
		deps := forecast.Deps{DB: d, Accounts: w.accounts, Campaigns: w.camps, Pacing: pacing}
		continuous, err := forecast.Campaign(w.ctx, deps, w.ws.ID, camp.ID, w.clock.Now(), days)
		if err != nil {
			t.Fatal(err)
		}
		deps.PassInterval = time.Minute
		ticked, err := forecast.Campaign(w.ctx, deps, w.ws.ID, camp.ID, w.clock.Now(), days)
		if err != nil {
			t.Fatal(err)
		}
		if as := continuous.Assumptions; as.AcceptanceSource != "default" || as.LiveProspects != prospects {
			t.Fatalf("assumptions: %+v", as)
		}
		rates := forecast.Rates{Accept: continuous.Assumptions.AcceptanceRate,
			AcceptAfter: time.Duration(continuous.Assumptions.AcceptAfterHours * float64(time.Hour))}

		w.run(t, days, rates)
		actual := w.perDay(days)

		stepsReached := engineReach(t, w, camp)
		finish := engineFinish(t, w, camp)
		for _, fc := range []struct {
			name string
			f    forecast.Forecast
		}{{"continuous", continuous}, {"one-minute passes", ticked}} {
			for i, day := range fc.f.Days {
				for act, want := range day.Actions {
					got := actual[i][""][act]
					if !within(want, got) {
						t.Errorf("%s: %s %s: forecast %d, engine %d", fc.name, day.Date, act, want, got)
					}
				}
				t.Logf("%s %s forecast %v engine %v binding %v", fc.name, day.Date, day.Actions, actual[i][""], day.Binding)
				for _, sd := range day.Senders {
					t.Logf("    %s forecast %v engine %v", sd.AccountID, sd.Actions, actual[i][sd.AccountID])
				}
			}
			if !closeDates(fc.f.FinishDate, finish) {
				t.Errorf("%s: finish date: forecast %v, engine %v", fc.name, str(fc.f.FinishDate), str(finish))
			}
			for _, sr := range fc.f.Steps {
				if !closeDates(sr.AllReachedBy, stepsReached[sr.StepID]) {
					t.Errorf("%s: step %s all reached by: forecast %v, engine %v", fc.name, sr.StepID, str(sr.AllReachedBy), str(stepsReached[sr.StepID]))
				}
			}
		}
		t.Logf("finish: engine %s, forecast %s", str(finish), str(continuous.FinishDate))
		if finish == nil {
			t.Fatalf("the engine did not finish the campaign in %d days; the test is meant to compare finish dates", days)
		}
	})
}

// acceptanceWorld builds the acceptance test's campaign: three senders in
// three zones whose different limits bind (profile views, the ramp, the
// 7-day cap), 500 prospects through a view, an invitation and a follow-up
// message to those who accept. pacing, when set, replaces every sender's.
func acceptanceWorld(t *testing.T, d *db.DB, pacing *policy.Pacing) (*world, campaign.Campaign) {
	t.Helper()
	const prospects = 500
	w := newWorld(t, d, 11, pacing)
	weekdays := []string{"mon", "tue", "wed", "thu", "fri"}
	every := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	n := func(v int) *int { return &v }
	// Paris: fully ramped, high invite caps (its profile views bind).
	a := w.addSender(t, "Paris", account.TierPremium, "Europe/Paris", 4, weekdays,
		account.CapsPatch{InviteDaily: n(40), InviteWeekly: n(150)})
	// New York: in ramp week 4 for the first week (the ramp binds),
	// then fully ramped.
	b := w.addSender(t, "NewYork", account.TierSalesNavigator, "America/New_York", 3, weekdays,
		account.CapsPatch{InviteDaily: n(40), InviteWeekly: n(150)})
	// Tokyo: every day of the week, so its 7-day cap binds.
	c := w.addSender(t, "Tokyo", account.TierPremium, "Asia/Tokyo", 4, every,
		account.CapsPatch{InviteDaily: n(20), InviteWeekly: n(120)})
	camp := w.addCampaign(t, []campaign.Step{
		{ID: "view", Type: campaign.StepViewProfile},
		{ID: "invite", Type: campaign.StepInvite},
		{ID: "accepted", Type: campaign.StepIfAccepted, Within: "72h", Then: "thanks", Else: campaign.End},
		{ID: "thanks", Type: campaign.StepMessage, Text: "Thanks for connecting, {{first_name}}"},
	}, prospects, []string{a.acc.ID, b.acc.ID, c.acc.ID})
	return w, camp
}

// TestForecastMatchesEngineWithSpread runs the same comparison with the
// senders' own pacing, spread over the window with random gaps in the
// engine and the middle of the range in the forecast: each day's actions of
// each type within 5%, each action's 14-day total, and the finish date
// within a day. Spreading per action type (docs/sending.md#pacing) is what
// makes days comparable: the spread of one type no longer eats the slots of
// another, so the random draws only move actions within a day.
func TestForecastMatchesEngineWithSpread(t *testing.T) {
	t.Parallel()
	const days = 14
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		if testing.Short() || raceEnabled {
			t.Skip("runs the engine for 14 simulated days")
		}
		w, camp := acceptanceWorld(t, d, nil)
		deps := forecast.Deps{DB: d, Accounts: w.accounts, Campaigns: w.camps}
		f, err := forecast.Campaign(w.ctx, deps, w.ws.ID, camp.ID, w.clock.Now(), days)
		if err != nil {
			t.Fatal(err)
		}
		rates := forecast.Rates{Accept: f.Assumptions.AcceptanceRate,
			AcceptAfter: time.Duration(f.Assumptions.AcceptAfterHours * float64(time.Hour))}
		w.run(t, days, rates)
		actual := w.perDay(days)
		want, got := map[string]int{}, map[string]int{}
		perDayMisses := 0
		for i, day := range f.Days {
			for act, n := range day.Actions {
				want[act] += n
				got[act] += actual[i][""][act]
				if !within(n, actual[i][""][act]) {
					perDayMisses++
					t.Errorf("%s %s: forecast %d, engine %d", day.Date, act, n, actual[i][""][act])
				}
			}
		}
		t.Logf("days and actions beyond 5%%: %d", perDayMisses)
		for act := range want {
			if !within(want[act], got[act]) {
				t.Errorf("%s over %d days: forecast %d, engine %d", act, days, want[act], got[act])
			}
		}
		finish := engineFinish(t, w, camp)
		t.Logf("totals: forecast %v, engine %v; finish: forecast %s, engine %s", want, got, str(f.FinishDate), str(finish))
		if finish == nil || !closeDates(f.FinishDate, finish) {
			t.Errorf("finish date: forecast %s, engine %s", str(f.FinishDate), str(finish))
		}
	})
}

func str(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

// closeDates reports whether two dates are both null or at most a day apart.
func closeDates(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ta, _ := time.Parse(time.DateOnly, *a)
	tb, _ := time.Parse(time.DateOnly, *b)
	diff := ta.Sub(tb)
	return diff <= 24*time.Hour && diff >= -24*time.Hour
}

// engineFinish is the UTC date the engine's last live prospect finished,
// or nil when some are still live.
func engineFinish(t *testing.T, w *world, c campaign.Campaign) *string {
	t.Helper()
	live, err := w.camps.LiveEnrollments(w.ctx, w.d.SQL, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) > 0 {
		return nil
	}
	var last db.NullTime
	if err := w.d.SQL.QueryRowContext(w.ctx, `SELECT MAX(updated_at) FROM enrollments WHERE campaign_id = $1`, c.ID).Scan(&last); err != nil {
		t.Fatal(err)
	}
	s := last.Time.UTC().Format(time.DateOnly)
	return &s
}

// engineReach is, per step, the UTC date by which the engine's prospects
// had all reached it (or passed it, or finished): nobody waits before the
// first step; the step after an action step is reached when the last of
// its actions was confirmed; the message step after the condition when the
// last prospect was accepted or timed out there.
func engineReach(t *testing.T, w *world, c campaign.Campaign) map[string]*string {
	t.Helper()
	live, err := w.camps.LiveEnrollments(w.ctx, w.d.SQL, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	date := func(query string, args ...any) *string {
		var last db.NullTime
		if err := w.d.SQL.QueryRowContext(w.ctx, query, args...).Scan(&last); err != nil {
			t.Fatal(err)
		}
		if !last.Valid {
			return nil
		}
		s := last.Time.UTC().Format(time.DateOnly)
		return &s
	}
	first := worldStart.Format(time.DateOnly)
	out := map[string]*string{"view": &first}
	for _, pair := range [][2]string{{"view", "invite"}, {"invite", "accepted"}} {
		if !stillBefore(live, c, pair[1]) {
			out[pair[1]] = date(`SELECT MAX(finished_at) FROM sends WHERE campaign_id = $1 AND step_id = $2 AND state = 'confirmed'`, c.ID, pair[0])
		}
	}
	if !stillBefore(live, c, "thanks") {
		ended := date(`SELECT MAX(updated_at) FROM enrollments WHERE campaign_id = $1 AND state = 'ended'`, c.ID)
		accepted := date(`SELECT MAX(accepted_at) FROM enrollments WHERE campaign_id = $1`, c.ID)
		out["thanks"] = ended
		if ended == nil || (accepted != nil && *accepted > *ended) {
			out["thanks"] = accepted
		}
	}
	return out
}

// stillBefore reports whether a live prospect has not reached step yet.
func stillBefore(live []campaign.LiveEnrollment, c campaign.Campaign, step string) bool {
	order := map[string]int{}
	for i, st := range c.Steps {
		order[st.ID] = i
	}
	for _, e := range live {
		if order[e.StepID] < order[step] {
			return true
		}
	}
	return false
}
