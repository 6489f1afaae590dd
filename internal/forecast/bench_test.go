package forecast_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/forecast"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/workspace"
)

var benchSteps = []campaign.Step{
	{ID: "view", Type: campaign.StepViewProfile},
	{ID: "invite", Type: campaign.StepInvite, Note: "Hi {{first_name}}"},
	{ID: "accepted", Type: campaign.StepIfAccepted, Within: "168h", Then: "thanks", Else: campaign.End},
	{ID: "thanks", Type: campaign.StepMessage, Text: "Thanks, {{first_name}}"},
	{ID: "wait", Type: campaign.StepWait, Duration: "72h"},
	{ID: "replied", Type: campaign.StepIfReplied, Within: "168h", Then: campaign.End, Else: "nudge"},
	{ID: "nudge", Type: campaign.StepMessage, Text: "Any thoughts?"},
}

var benchZones = []string{"Europe/Paris", "America/New_York", "Asia/Tokyo", "Europe/London", "America/Los_Angeles"}

// benchInput is a running 10-sender campaign of 10,000 pending prospects
// with the default pacing (spread over the window), mixed zones and tiers.
func benchInput() forecast.Input {
	var senders []forecast.Sender
	for i := 0; i < 10; i++ {
		tier := account.TierPremium
		if i%3 == 0 {
			tier = account.TierFree
		}
		a := account.Account{ID: fmt.Sprintf("acc_%02d", i), Name: fmt.Sprintf("S%d", i), Status: account.StatusConnected, Tier: tier,
			Timezone: benchZones[i%len(benchZones)], Window: account.WindowSpec{Days: weekdays, Start: "09:00", End: "18:00"},
			Caps: account.DefaultCaps.Clamp(tier), RampStartedAt: monday.Add(-time.Duration(i) * 7 * 24 * time.Hour), Pacing: account.DefaultPacing}
		senders = append(senders, forecast.Sender{Account: a, Pacing: policy.ForAccount(a.Pacing, time.Minute), NextAllowed: monday})
	}
	in := input(benchSteps, 10_000, senders...)
	in.Days = 90
	return in
}

// BenchmarkForecast times the simulation of a 10,000-prospect, 10-sender
// campaign over 90 days (goal: under a second) and reports it as a ratio
// to a bare loop making as many policy.Decide calls as the simulation did,
// measured in the same run:
//
//	go test -run '^$' -bench BenchmarkForecast$ -benchtime 10x -count 3 ./internal/forecast/
func BenchmarkForecast(b *testing.B) {
	in := benchInput()
	var f forecast.Forecast
	var simTotal time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		f = forecast.Simulate(in)
		simTotal += time.Since(t0)
	}
	b.StopTimer()
	if sum(counts(f, "invite")) == 0 || f.Decisions == 0 {
		b.Fatalf("the forecast sent nothing: %+v", f.Days[0])
	}
	snap := policy.Snapshot{Account: in.Senders[1].Account, Action: policy.ActionInvite, UsedToday: 3,
		Share: &policy.Share{Cap: 100, Used: 3}, Pacing: in.Senders[1].Pacing, NextAllowed: monday,
		Week: []time.Time{monday.Add(-48 * time.Hour), monday.Add(-24 * time.Hour)}}
	at := monday.Add(16 * time.Hour) // inside the window of S1 (New York)
	t1 := time.Now()
	var v policy.Verdict
	for j := 0; j < f.Decisions; j++ {
		v = policy.Decide(snap, at, policy.Draw{Gap: 0.5, Spread: 0.5})
	}
	bare := time.Since(t1)
	if !v.Allowed {
		b.Fatalf("the baseline decision is held: %+v", v)
	}
	per := simTotal / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/forecast")
	b.ReportMetric(float64(f.Decisions), "decisions")
	b.ReportMetric(float64(bare.Microseconds())/1000, "ms/bare-decisions")
	b.ReportMetric(float64(per)/float64(bare), "ratio")
	finish := "beyond 90 days"
	if f.FinishDate != nil {
		finish = *f.FinishDate
	}
	b.Logf("finish %s; %d decisions; first day %v", finish, f.Decisions, f.Days[0].Actions)
}

// BenchmarkForecastCampaign times the whole forecast of such a campaign
// stored in SQLite (reading its state, then simulating): what the API and
// the CLI do.
//
//	go test -run '^$' -bench BenchmarkForecastCampaign -benchtime 5x ./internal/forecast/
func BenchmarkForecastCampaign(b *testing.B) {
	ctx := context.Background()
	d := dbtest.Open(b, db.SQLite, dbtest.Options{})
	c := clock.NewFake(monday)
	accounts, camps := account.NewService(d, c), campaign.NewService(d, c)
	ws, err := workspace.Create(ctx, d.SQL, "bench", "", c.Now())
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for i := 0; i < 10; i++ {
		a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: fmt.Sprintf("prov_%d", i),
			Name: fmt.Sprintf("S%d", i), Status: account.StatusConnected, Tier: account.TierPremium, Timezone: benchZones[i%len(benchZones)]})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	name := "bench"
	camp, err := camps.Create(ctx, ws.ID, campaign.Input{Name: &name, AccountIDs: ids, Steps: benchSteps})
	if err != nil {
		b.Fatal(err)
	}
	rows := make([]campaign.ProspectRow, 10_000)
	for i := range rows {
		rows[i] = campaign.ProspectRow{Row: i + 1, ProviderID: fmt.Sprintf("ACoAAb%05d", i), FirstName: "P"}
	}
	if res, err := camps.Import(ctx, camp.ID, ws.ID, rows); err != nil || res.Imported != len(rows) {
		b.Fatalf("import: %+v %v", res.Imported, err)
	}
	if _, err := camps.Start(ctx, ws.ID, camp.ID); err != nil {
		b.Fatal(err)
	}
	deps := forecast.Deps{DB: d, Accounts: accounts, Campaigns: camps}
	b.ResetTimer()
	var f forecast.Forecast
	for i := 0; i < b.N; i++ {
		if f, err = forecast.Campaign(ctx, deps, ws.ID, camp.ID, c.Now(), 90); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if f.Assumptions.LiveProspects != len(rows) {
		b.Fatalf("live %d", f.Assumptions.LiveProspects)
	}
}
