package forecast_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/forecast"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
)

// monday is a Monday, 00:00 UTC.
var monday = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

var (
	weekdays = []string{"mon", "tue", "wed", "thu", "fri"}
	everyDay = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	// tenMinutes paces a sender every ten minutes, no spreading.
	tenMinutes = policy.Pacing{MinGap: 10 * time.Minute, MaxGap: 10 * time.Minute}
)

// sender is a connected premium account in UTC, fully ramped unless
// rampStart is later.
func sender(id string, days []string, caps account.Caps, rampStart time.Time) forecast.Sender {
	return forecast.Sender{Account: account.Account{ID: id, Name: id, Status: account.StatusConnected, Tier: account.TierPremium,
		Timezone: "UTC", Window: account.WindowSpec{Days: days, Start: "09:00", End: "18:00"}, Caps: caps, RampStartedAt: rampStart},
		Pacing: tenMinutes, NextAllowed: monday}
}

var ramped = monday.Add(-60 * 24 * time.Hour)

func caps(inviteDaily, inviteWeekly int) account.Caps {
	c := account.DefaultCaps
	c.InviteDaily, c.InviteWeekly = inviteDaily, inviteWeekly
	return c
}

// input builds a running campaign of n prospects on one sender, all pending.
func input(steps []campaign.Step, n int, s ...forecast.Sender) forecast.Input {
	c := campaign.Campaign{ID: "cmp_1", Status: campaign.StatusRunning, Steps: steps, DailyCaps: campaign.CapCeilings}
	for _, x := range s {
		c.AccountIDs = append(c.AccountIDs, x.Account.ID)
	}
	in := forecast.Input{Campaign: c, Senders: s, Now: monday, Days: 14,
		Rates: forecast.Rates{Accept: 0.3, AcceptAfter: 48 * time.Hour, Reply: 0.1, ReplyAfter: 24 * time.Hour}}
	for i := 0; i < n; i++ {
		in.Enrollments = append(in.Enrollments, campaign.LiveEnrollment{ID: fmt.Sprintf("enr_%05d", i),
			AccountID: s[i%len(s)].Account.ID, State: campaign.EnrollmentPending})
	}
	return in
}

var inviteOnly = []campaign.Step{{ID: "inv", Type: campaign.StepInvite}}

func counts(f forecast.Forecast, action string) []int {
	out := make([]int, len(f.Days))
	for i, d := range f.Days {
		out[i] = d.Actions[action]
	}
	return out
}

func binding(f forecast.Forecast, day int, action string) string {
	for _, b := range f.Days[day].Binding {
		if b.Action == action {
			return b.Code
		}
	}
	return ""
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The window bounds each day: ten-minute gaps from 09:00 to 18:00 are 54
// actions; the weekend sends nothing.
func TestSimulationKeepsTheWindow(t *testing.T) {
	t.Parallel()
	f := forecast.Simulate(input(inviteOnly, 200, sender("a", weekdays, caps(100, 200), ramped)))
	got := counts(f, "invite")
	want := []int{54, 54, 54, 38, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if !equalInts(got, want) {
		t.Fatalf("invites per day %v, want %v", got, want)
	}
	if code := binding(f, 0, "invite"); code != policy.CodeWindow {
		t.Fatalf("day 0 binding %q, want window_closed", code)
	}
	if f.FinishDate == nil || *f.FinishDate != "2026-03-05" {
		t.Fatalf("finish %v", f.FinishDate)
	}
	// Over a weekend, at 20-minute gaps (27 a day): 150 prospects spill
	// from Friday to Monday.
	slow := sender("a", weekdays, caps(100, 200), ramped)
	slow.Pacing = policy.Pacing{MinGap: 20 * time.Minute, MaxGap: 20 * time.Minute}
	f = forecast.Simulate(input(inviteOnly, 150, slow))
	got = counts(f, "invite")
	if got[4] != 27 || got[5] != 0 || got[6] != 0 || got[7] != 150-5*27 {
		t.Fatalf("invites per day %v", got)
	}
	for _, d := range []int{5, 6} {
		if code := binding(f, d, "invite"); code != policy.CodeWindow {
			t.Fatalf("weekend day %d binding %q, want window_closed", d, code)
		}
	}
}

// A new account ramps: 25% of its configured cap in week 1, 40% in week 2.
func TestSimulationRamps(t *testing.T) {
	t.Parallel()
	f := forecast.Simulate(input(inviteOnly, 500, sender("a", everyDay, caps(20, 200), monday)))
	got := counts(f, "invite")
	for d := 0; d < 7; d++ {
		if got[d] != 5 || binding(f, d, "invite") != policy.CodeRamp {
			t.Fatalf("week 1 day %d: %d invites, binding %q (%v)", d, got[d], binding(f, d, "invite"), got)
		}
		if f.Days[d].Capacity != 5 {
			t.Fatalf("week 1 capacity %d, want 5", f.Days[d].Capacity)
		}
	}
	for d := 7; d < 14; d++ {
		if got[d] != 8 || f.Days[d].Capacity != 8 {
			t.Fatalf("week 2 day %d: %d invites, capacity %d (%v)", d, got[d], f.Days[d].Capacity, got)
		}
	}
}

// The rolling 7-day invitation cap holds the sender until the oldest
// invitation of the window ages out.
func TestSimulationKeepsTheWeeklyCap(t *testing.T) {
	t.Parallel()
	f := forecast.Simulate(input(inviteOnly, 500, sender("a", everyDay, caps(20, 50), ramped)))
	got := counts(f, "invite")
	want := []int{20, 20, 10, 0, 0, 0, 0, 20, 20, 10, 0, 0, 0, 0}
	if !equalInts(got, want) {
		t.Fatalf("invites per day %v, want %v", got, want)
	}
	for _, d := range []int{2, 3, 6} {
		if code := binding(f, d, "invite"); code != policy.CodeWeeklyCap {
			t.Fatalf("day %d binding %q, want weekly_cap", d, code)
		}
	}
	if code := binding(f, 0, "invite"); code != policy.CodeDailyCap {
		t.Fatalf("day 0 binding %q, want daily_cap", code)
	}
}

// The start counts what the ledger holds: a sender that used its day
// already starts tomorrow; one whose week is full waits for it to free.
func TestSimulationStartsFromTheLedger(t *testing.T) {
	t.Parallel()
	in := input(inviteOnly, 10, sender("a", everyDay, caps(20, 50), ramped))
	in.Now = monday.Add(12 * time.Hour)
	var week []time.Time
	for i := 0; i < 50; i++ {
		week = append(week, monday.Add(-5*24*time.Hour+time.Duration(i)*time.Minute))
	}
	in.Senders[0].Usage = map[policy.Action]forecast.Usage{policy.ActionInvite: {UsedToday: 0, Week: week}}
	f := forecast.Simulate(in)
	got := counts(f, "invite")
	// The 50 invitations of five days ago age out on Wednesday from 09:00 (UTC).
	if got[0] != 0 || got[1] != 0 || got[2] != 10 || binding(f, 0, "invite") != policy.CodeWeeklyCap {
		t.Fatalf("invites per day %v, binding %q", got, binding(f, 0, "invite"))
	}
	in.Senders[0].Usage = map[policy.Action]forecast.Usage{policy.ActionInvite: {UsedToday: 20}}
	f = forecast.Simulate(in)
	if got := counts(f, "invite"); got[0] != 0 || got[1] != 10 || binding(f, 0, "invite") != policy.CodeDailyCap {
		t.Fatalf("invites per day %v, binding %q", got, binding(f, 0, "invite"))
	}
	// A cooldown in force holds until it ends.
	in.Senders[0].Usage = map[policy.Action]forecast.Usage{policy.ActionInvite: {Block: &policy.Block{Kind: policy.BlockCooldown, Until: monday.Add(3 * 24 * time.Hour)}}}
	f = forecast.Simulate(in)
	if got := counts(f, "invite"); got[0]+got[1]+got[2] != 0 || got[3] != 10 || binding(f, 1, "invite") != policy.CodeCooldown {
		t.Fatalf("invites per day %v, binding %q", got, binding(f, 1, "invite"))
	}
}

// Waits delay the next step by their duration; a condition moves at the
// signal or at its timeout.
func TestSimulationTimesWaitsAndConditions(t *testing.T) {
	t.Parallel()
	steps := []campaign.Step{
		{ID: "inv", Type: campaign.StepInvite},
		{ID: "wait", Type: campaign.StepWait, Duration: "48h"},
		{ID: "acc", Type: campaign.StepIfAccepted, Within: "120h", Then: "msg", Else: campaign.End},
		{ID: "msg", Type: campaign.StepMessage, Text: "Hi"},
	}
	in := input(steps, 50, sender("a", everyDay, caps(100, 200), ramped))
	in.Rates.Accept, in.Rates.AcceptAfter = 0.5, 24*time.Hour
	f := forecast.Simulate(in)
	inv, msg := counts(f, "invite"), counts(f, "message")
	if inv[0] != 50 {
		t.Fatalf("invites %v", inv)
	}
	// Accepted a day after the invitation, seen when the 48 h wait ends:
	// messages go out two days after the invitations, half of them.
	if msg[0]+msg[1] != 0 || msg[2] != 25 {
		t.Fatalf("messages %v", msg)
	}
	reach := map[string]string{}
	for _, s := range f.Steps {
		if s.AllReachedBy == nil {
			t.Fatalf("step %s not reached within 14 days", s.StepID)
		}
		reach[s.StepID] = *s.AllReachedBy
	}
	// The last invitation (day 0) + 48 h wait: day 2; those not accepted
	// time out 120 h later: day 7; the finish is then too.
	if reach["inv"] != "2026-03-02" || reach["wait"] != "2026-03-02" || reach["acc"] != "2026-03-04" || reach["msg"] != "2026-03-09" {
		t.Fatalf("reach %v", reach)
	}
	if *f.FinishDate != "2026-03-09" {
		t.Fatalf("finish %s", *f.FinishDate)
	}

	// Accepts later than the wait: the condition moves at the accept.
	in.Rates.AcceptAfter = 72 * time.Hour
	f = forecast.Simulate(in)
	if msg := counts(f, "message"); msg[2] != 0 || msg[3] != 25 {
		t.Fatalf("messages with accepts after 72 h: %v", msg)
	}
}

// Too little time: the finish and the steps not reached are null.
func TestSimulationBeyondTheHorizon(t *testing.T) {
	t.Parallel()
	in := input(inviteOnly, 1000, sender("a", weekdays, caps(20, 100), ramped))
	in.Days = 7
	f := forecast.Simulate(in)
	if f.FinishDate != nil || len(f.Days) != 7 {
		t.Fatalf("finish %v, %d days", f.FinishDate, len(f.Days))
	}
	if total := sum(counts(f, "invite")); total != 100 {
		t.Fatalf("a week at 20 a day and 100 a week sends %d", total)
	}
	// A sender that is not connected holds every day.
	in = input(inviteOnly, 10, sender("a", weekdays, caps(20, 100), ramped))
	in.Senders[0].Account.Status = account.StatusDisconnected
	f = forecast.Simulate(in)
	if sum(counts(f, "invite")) != 0 || binding(f, 3, "invite") != policy.CodeNotConnected || f.FinishDate != nil {
		t.Fatalf("disconnected sender: %v %v", counts(f, "invite"), f.Days[3].Binding)
	}
}

// TestSimulationCountsTheLaterProspects checks that prospects given as
// counts (Input.Later) forecast as the same prospects listed with their
// due time beyond the horizon: live, and keeping the steps after theirs
// from being all reached.
func TestSimulationCountsTheLaterProspects(t *testing.T) {
	t.Parallel()
	steps := []campaign.Step{{ID: "inv", Type: campaign.StepInvite}, {ID: "view", Type: campaign.StepViewProfile}}
	listed := input(steps, 10, sender("a", weekdays, caps(20, 100), ramped), sender("b", weekdays, caps(20, 100), ramped))
	counted := listed
	far := monday.Add(30 * 24 * time.Hour)
	for i := 0; i < 5; i++ {
		listed.Enrollments = append(listed.Enrollments, campaign.LiveEnrollment{ID: fmt.Sprintf("enr_9%04d", i),
			AccountID: "b", State: campaign.EnrollmentActive, StepID: "inv", NextActionAt: far})
	}
	counted.Later = []campaign.LiveCount{{AccountID: "b", StepID: "inv", N: 5}, {AccountID: "b", StepID: "gone", N: 3}}
	got, want := forecast.Simulate(counted), forecast.Simulate(listed)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("counted:\n%+v\nlisted:\n%+v", got, want)
	}
	if want.Assumptions.LiveProspects != 15 || want.Steps[1].AllReachedBy != nil || want.FinishDate != nil {
		t.Fatalf("live %d, view reached %v, finish %v", want.Assumptions.LiveProspects, str(want.Steps[1].AllReachedBy), str(want.FinishDate))
	}
	// Without them, the ten listed ones finish within the horizon.
	if f := forecast.Simulate(input(steps, 10, sender("a", weekdays, caps(20, 100), ramped), sender("b", weekdays, caps(20, 100), ramped))); f.FinishDate == nil || f.Steps[1].AllReachedBy == nil {
		t.Fatalf("ten prospects alone: finish %v, view reached %v", str(f.FinishDate), str(f.Steps[1].AllReachedBy))
	}
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

func TestParseDays(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"": 30, "1": 1, "90": 90, " 14 ": 14} {
		if got, err := forecast.ParseDays(in); err != nil || got != want {
			t.Errorf("ParseDays(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"0", "91", "-1", "x", "1.5", "1e2"} {
		if _, err := forecast.ParseDays(in); err == nil {
			t.Errorf("ParseDays(%q) accepted", in)
		}
	}
}

// The pending cap binds in the forecast as in the engine: a sender with 8
// of its 10 pending slots taken by invitations that stay (made outside
// Keel) and 1 by one of Keel's due for withdrawal on day 5 sends 1
// invitation on day 0, 1 more when the withdrawal frees its slot, and the
// day's binding limit says why.
func TestPendingCapBindsTheForecast(t *testing.T) {
	t.Parallel()
	c := caps(20, 100)
	c.InvitePending = 10
	s := sender("acc_p", everyDay, c, ramped)
	s.Account.WithdrawAfterDays = 21
	s.Pending.Stuck = 8
	s.Pending.Frees = []time.Time{monday.Add(5*24*time.Hour + 10*time.Hour)}
	in := input(inviteOnly, 50, s)
	in.Rates.Accept = 0 // nobody accepts: only the withdrawal frees a slot
	f := forecast.Simulate(in)
	got := counts(f, "invite")
	want := make([]int, 14)
	want[0], want[5] = 1, 1
	if !equalInts(got, want) {
		t.Fatalf("invitations per day %v, want %v", got, want)
	}
	if b := binding(f, 1, "invite"); b != policy.CodePendingInvitations {
		t.Fatalf("day 1 binds %q, want %s", b, policy.CodePendingInvitations)
	}
	// Without the outside invitations, ten go on day 0 (the daily cap is
	// 20); then the pending cap holds the rest.
	s.Pending = send.PendingAt{}
	in = input(inviteOnly, 50, s)
	in.Rates.Accept = 0
	if got := counts(forecast.Simulate(in), "invite"); got[0] != 10 || got[1] != 0 {
		t.Fatalf("with an empty pending list: %v, want 10 on day 0 then none", got)
	}
}
