package web

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/connect"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/workspace"
)

// The chart's capacity is the senders' real capacity: a sender in its
// first ramp week can send 5 of its 20 invitations, and the weekend none;
// the expected bars follow it.
func TestChartShowsRampedCapacityAndTheForecast(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		monday := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		c := clock.NewFake(monday)
		accounts, camps := account.NewService(d, c), campaign.NewService(d, c)
		ws, err := workspace.Create(ctx, d.SQL, "chart", "", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "prov_1", Name: "Ada",
			Status: account.StatusConnected, Tier: account.TierPremium, Timezone: "UTC"})
		if err != nil {
			t.Fatal(err)
		}
		name := "chart"
		camp, err := camps.Create(ctx, ws.ID, campaign.Input{Name: &name, AccountIDs: []string{a.ID},
			Steps: []campaign.Step{{ID: "s1", Type: campaign.StepInvite}}})
		if err != nil {
			t.Fatal(err)
		}
		rows := make([]campaign.ProspectRow, 30)
		for i := range rows {
			rows[i] = campaign.ProspectRow{Row: i + 1, ProviderID: fmt.Sprintf("ACoAAc%03d", i)}
		}
		if _, err := camps.Import(ctx, camp.ID, ws.ID, rows); err != nil {
			t.Fatal(err)
		}
		if camp, err = camps.Start(ctx, ws.ID, camp.ID); err != nil {
			t.Fatal(err)
		}
		s, err := New(Options{DB: d, Accounts: accounts, Campaigns: camps, Connect: &connect.Service{}, Clock: c})
		if err != nil {
			t.Fatal(err)
		}
		figs, err := s.figures(ctx, camp, c.Now())
		if err != nil {
			t.Fatal(err)
		}
		ch := s.sendsChart(figs, camp, c.Now())
		// The campaign's share is 20 a day; the ramp allows 5.
		if ch.CapToday != 5 {
			t.Fatalf("today's capacity %d, want 5 (ramp week 1)", ch.CapToday)
		}
		today := ChartDays - 1
		var expected []int
		for _, day := range ch.Days[today:] {
			expected = append(expected, day.Expected.Count)
		}
		// Mon–Fri 5 a day, nothing on the weekend, the last 5 next Monday.
		want := []int{5, 5, 5, 5, 5, 0, 0, 5, 0, 0, 0, 0, 0, 0}
		if fmt.Sprint(expected) != fmt.Sprint(want) || ch.Expected != 30 || ch.Sent != 0 {
			t.Fatalf("expected per day %v (total %d, sent %d), want %v", expected, ch.Expected, ch.Sent, want)
		}
		if ch.Days[0].Expected != nil || ch.Days[today].Actual == nil || ch.Days[today+1].Actual != nil {
			t.Fatalf("past days show sends only, future days the forecast only: %+v", ch.Days)
		}
		// The line steps: 0 on the weekend, 5 in week 1, 8 in week 2.
		if !strings.Contains(ch.CapPath, fmt.Sprintf("V%d", ch.BaseY)) {
			t.Fatalf("capacity line never drops to 0 on a weekend: %s", ch.CapPath)
		}
		var buf bytes.Buffer
		err = s.pages["campaign"].ExecuteTemplate(&buf, "layout.html", page{Title: camp.Name, Data: campaignData{Campaign: camp, Chart: ch}})
		if err != nil {
			t.Fatal(err)
		}
		html := buf.String()
		for _, want := range []string{`class="bar expected"`, "Mon Mar 2: 5 expected (capacity 5)", `class="cap"`,
			"capacity across senders 5"} {
			if !strings.Contains(html, want) {
				t.Errorf("page lacks %q", want)
			}
		}
	})
}
