package send_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/workspace"
)

// simStart is a Monday; the US changes to summer time on Sunday 8 March.
var simStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

type simAccount struct {
	acc      account.Account
	provider string
	loc      *time.Location
}

type sim struct {
	ctx      context.Context
	d        *db.DB
	clock    *clock.Fake
	fake     *fake.Server
	client   *unipile.Client
	accounts *account.Service
	camps    *campaign.Service
	engine   *send.Engine
	ws       workspace.Workspace
	senders  []simAccount
}

func newSim(t *testing.T, d *db.DB, seed uint64) *sim {
	t.Helper()
	ctx := context.Background()
	c := clock.NewFake(simStart)
	f := fake.New(fake.Options{Clock: c})
	if err := f.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	client, err := unipile.New(unipile.Options{BaseURL: f.URL(), APIKey: f.APIKey()})
	if err != nil {
		t.Fatal(err)
	}
	s := &sim{ctx: ctx, d: d, clock: c, fake: f, client: client, accounts: account.NewService(d, c), camps: campaign.NewService(d, c)}
	s.accounts.OnFlip("campaigns", s.camps.OnAccountFlip)
	// As the application wires it: a settings change re-evaluates parked
	// prospects (docs/sending.md#re-evaluation).
	s.accounts.OnSettingsChanged("campaigns", s.camps.OnAccountSettings)
	s.engine, err = send.New(send.Options{DB: d, Accounts: s.accounts, Campaigns: s.camps, Client: client, Clock: c, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if s.ws, err = workspace.Create(ctx, d.SQL, "sim", "", c.Now()); err != nil {
		t.Fatal(err)
	}
	return s
}

// addAccount creates a connected account; rampWeeksAgo moves its ramp start
// back so one run covers every ramp week.
func (s *sim) addAccount(t *testing.T, name string, tier account.Tier, tz string, rampWeeksAgo int) simAccount {
	t.Helper()
	credits := 100
	return s.addAccountWith(t, name, tier, tz, rampWeeksAgo, &credits)
}

// addAccountWith is addAccount with a chosen InMail seat (nil: none).
func (s *sim) addAccountWith(t *testing.T, name string, tier account.Tier, tz string, rampWeeksAgo int, credits *int) simAccount {
	t.Helper()
	pid := s.fake.AddAccount(fake.AccountSpec{Name: name, InMailCredits: credits})
	a, err := s.accounts.Create(s.ctx, s.d.SQL, account.NewAccount{WorkspaceID: s.ws.ID, ProviderAccountID: pid, Name: name,
		Status: account.StatusConnected, Tier: tier, Timezone: tz})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.d.SQL.ExecContext(s.ctx, `UPDATE linkedin_accounts SET ramp_started_at = $2 WHERE id = $1`,
		a.ID, s.clock.Now().Add(-time.Duration(rampWeeksAgo)*7*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if a, err = s.accounts.Get(s.ctx, s.d.SQL, "", a.ID); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation(tz)
	sa := simAccount{acc: a, provider: pid, loc: loc}
	s.senders = append(s.senders, sa)
	return sa
}

func (s *sim) addCampaign(t *testing.T, name string, steps []campaign.Step, prospects int, accountIDs []string) campaign.Campaign {
	t.Helper()
	// Campaign shares at the ceilings, so the accounts' own caps bind.
	inv, msg, inm, view := 100, 150, 50, 100
	c, err := s.camps.Create(s.ctx, s.ws.ID, campaign.Input{Name: &name, AccountIDs: accountIDs, Steps: steps,
		DailyCaps: &campaign.CapsInput{Invite: &inv, Message: &msg, InMail: &inm, ViewProfile: &view}})
	if err != nil {
		t.Fatalf("creating campaign: %v", err)
	}
	rows := make([]campaign.ProspectRow, prospects)
	for i := range rows {
		pid := fmt.Sprintf("ACoAA%s%05d", name, i)
		s.fake.AddPerson(fake.Person{ProviderID: pid, PublicIdentifier: fmt.Sprintf("%s-%d", name, i), FirstName: fmt.Sprintf("P%d", i)})
		rows[i] = campaign.ProspectRow{Row: i + 1, ProviderID: pid, FirstName: fmt.Sprintf("P%d", i)}
	}
	res, err := s.camps.Import(s.ctx, c.ID, s.ws.ID, rows)
	if err != nil || res.Imported != prospects {
		t.Fatalf("importing prospects: %+v %v", res, err)
	}
	if c, err = s.camps.Start(s.ctx, s.ws.ID, c.ID); err != nil {
		t.Fatalf("starting campaign: %v", err)
	}
	return c
}

// run advances simulated time minute by minute, running scheduler passes,
// and lets some invitees accept (through the one stamping function).
func (s *sim) run(t *testing.T, days int, rng *rand.Rand) {
	t.Helper()
	end := simStart.Add(time.Duration(days) * 24 * time.Hour)
	for now := s.clock.Now(); now.Before(end); now = s.clock.Advance(time.Minute) {
		if _, err := s.engine.RunPass(s.ctx); err != nil {
			t.Fatalf("pass at %v: %v", now, err)
		}
		if now.Minute() == 0 {
			s.acceptSome(t, rng)
		}
	}
}

func (s *sim) acceptSome(t *testing.T, rng *rand.Rand) {
	for _, sa := range s.senders {
		for _, inv := range s.fake.Invitations(sa.provider) {
			if inv.State != "pending" || rng.IntN(10) != 0 {
				continue
			}
			if err := s.fake.Accept(inv.ID); err != nil {
				continue
			}
			err := s.d.InTx(s.ctx, func(tx *sql.Tx) error {
				_, err := s.engine.StampAccepted(s.ctx, tx, send.AcceptSignal{WorkspaceID: s.ws.ID, AccountID: sa.acc.ID,
					ProviderID: inv.ProviderID, Source: "simulation"})
				return err
			})
			if err != nil {
				t.Fatalf("stamping accept: %v", err)
			}
		}
	}
}

var sendActions = map[string]policy.Action{
	fake.ActionInvite: policy.ActionInvite, fake.ActionStartChat: policy.ActionMessage, fake.ActionSendMessage: policy.ActionMessage,
	fake.ActionInMail: policy.ActionInMail, fake.ActionViewProfile: policy.ActionViewProfile,
}

// check proves the safety rules from the fake's call log alone.
func (s *sim) check(t *testing.T) map[policy.Action]int {
	t.Helper()
	byProvider := map[string]simAccount{}
	for _, sa := range s.senders {
		byProvider[sa.provider] = sa
	}
	type key struct {
		acc    string
		day    time.Time
		action policy.Action
	}
	perDay := map[key]int{}
	lastAt := map[string]time.Time{}
	invites := map[string][]time.Time{}
	totals := map[policy.Action]int{}
	rampWeeks := map[string]map[int]bool{}
	calls := s.fake.Calls()
	for i, c := range calls {
		act, ok := sendActions[c.Action]
		if !ok || !c.Applied {
			continue
		}
		// A profile lookup that resolves a prospect imported by URL, made by
		// the dispatch of another action in the same instant, is part of
		// that action, not a profile view step of its own.
		if c.Action == fake.ActionViewProfile && i+1 < len(calls) {
			if n := calls[i+1]; n.AccountID == c.AccountID && n.Time.Equal(c.Time) && n.Action != fake.ActionViewProfile && sendActions[n.Action] != "" {
				continue
			}
		}
		sa, ok := byProvider[c.AccountID]
		if !ok {
			t.Fatalf("call for unknown account %s", c.AccountID)
		}
		totals[act]++
		at := c.Time.UTC()
		k := key{sa.acc.ID, policy.UTCDayStart(at), act}
		perDay[k]++
		eff := policy.EffectiveDaily(sa.acc, act, at)
		if perDay[k] > eff.Cap {
			t.Errorf("%s: %d %s on %s, effective cap %d (%s)", sa.acc.Name, perDay[k], act, k.day.Format("2006-01-02"), eff.Cap, eff.Binding)
		}
		if rampWeeks[sa.acc.ID] == nil {
			rampWeeks[sa.acc.ID] = map[int]bool{}
		}
		rampWeeks[sa.acc.ID][policy.RampWeek(sa.acc.RampStartedAt, at)] = true
		w, _ := policy.ParseWindow(sa.acc.Window.Days, sa.acc.Window.Start, sa.acc.Window.End)
		if !w.Contains(at, sa.loc) {
			t.Errorf("%s: %s at %v, outside its window in %s (%v local)", sa.acc.Name, act, at, sa.loc, at.In(sa.loc))
		}
		if prev, ok := lastAt[sa.acc.ID]; ok && at.Sub(prev) < 60*time.Second {
			t.Errorf("%s: two actions %v apart at %v", sa.acc.Name, at.Sub(prev), at)
		}
		lastAt[sa.acc.ID] = at
		if act == policy.ActionInvite {
			invites[sa.acc.ID] = append(invites[sa.acc.ID], at)
		}
	}
	for _, sa := range s.senders {
		list := invites[sa.acc.ID]
		sort.Slice(list, func(i, j int) bool { return list[i].Before(list[j]) })
		for i := range list {
			// Invites in the 7×24 h ending at this one.
			n := 0
			for j := i; j >= 0 && list[i].Sub(list[j]) < 7*24*time.Hour; j-- {
				n++
			}
			if eff := policy.EffectiveWeeklyInvites(sa.acc, list[i]); n > eff.Cap {
				t.Errorf("%s: %d invites in the 7 days ending %v, weekly cap %d", sa.acc.Name, n, list[i], eff.Cap)
			}
		}
	}
	allWeeks := map[int]bool{}
	for _, weeks := range rampWeeks {
		for w := range weeks {
			allWeeks[w] = true
		}
	}
	t.Logf("actions by type: %v; ramp weeks exercised: %v", totals, allWeeks)
	return totals
}

func TestSimulatedThreeWeeks(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		days, prospects := 21, 500
		// PostgreSQL runs the short simulation: the ledger takes the same
		// paths in four days as in three weeks, and the full length there
		// would double the suite's wall time. SQLite runs the full length.
		if testing.Short() || raceEnabled || d.Engine == db.Postgres {
			days, prospects = 4, 60
		}
		s := newSim(t, d, 7)
		free := s.addAccount(t, "Free", account.TierFree, "Europe/Paris", 0)
		premium := s.addAccount(t, "Premium", account.TierPremium, "America/New_York", 2)
		salesNav := s.addAccount(t, "SalesNav", account.TierSalesNavigator, "Asia/Tokyo", 4)
		ids := []string{free.acc.ID, premium.acc.ID, salesNav.acc.ID}
		s.addCampaign(t, "alpha", []campaign.Step{
			{ID: "s1", Type: campaign.StepInvite, Note: "Hi {{first_name}}"},
			{ID: "s2", Type: campaign.StepIfAccepted, Within: "168h", Then: "s3", Else: campaign.End},
			{ID: "s3", Type: campaign.StepMessage, Text: "Thanks for connecting, {{first_name}}"},
		}, prospects, ids)
		s.addCampaign(t, "beta", []campaign.Step{
			{ID: "v1", Type: campaign.StepViewProfile},
			{ID: "w1", Type: campaign.StepWait, Duration: "24h"},
			{ID: "i1", Type: campaign.StepInvite},
		}, prospects, ids)
		s.run(t, days, rand.New(rand.NewPCG(1, 2)))
		totals := s.check(t)
		if totals[policy.ActionInvite] == 0 || totals[policy.ActionViewProfile] == 0 {
			t.Fatalf("the simulation sent too little to prove anything: %v", totals)
		}
		if days >= 21 && totals[policy.ActionMessage] == 0 {
			t.Fatalf("no follow-up message after an accept in %d days: %v", days, totals)
		}
		// Counters agree with the fake: the ledger's confirmed rows are exactly
		// the applied calls.
		var confirmed int
		if err := d.SQL.QueryRow(`SELECT count(*) FROM sends WHERE state = 'confirmed'`).Scan(&confirmed); err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, n := range totals {
			sum += n
		}
		if confirmed != sum {
			t.Fatalf("ledger confirmed %d, fake applied %d", confirmed, sum)
		}
	})
}
