package diagnose

import (
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/policy"
)

// paced puts the fixture's sender in Europe/Paris and its pacing row at
// next, as a claim leaves it.
func (f *fixture) paced(t *testing.T, next time.Time) {
	t.Helper()
	f.exec(t, `UPDATE linkedin_accounts SET timezone = 'Europe/Paris' WHERE id = $1`, f.acc.ID)
	f.exec(t, `INSERT INTO account_pacing (account_id, next_allowed_at) VALUES ($1, $2)`, f.acc.ID, next)
}

// eachEngine runs fn as a parallel subtest per engine (the fixture opens
// its own database).
func eachEngine(t *testing.T, fn func(t *testing.T, engine db.Engine)) {
	for _, e := range dbtest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			fn(t, e)
		})
	}
}

func findingOf(r Report, code string) *Finding {
	for i := range r.Findings {
		if r.Findings[i].Code == code {
			return &r.Findings[i]
		}
	}
	return nil
}

// A sender waiting for its pacing is sending, says when in its own zone,
// and carries the pacing row's time as next_action_at and clears_at.
func TestPacingFinding(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, engine db.Engine) {
		f := newFixture(t, engine, []campaign.Step{{ID: "s1", Type: campaign.StepInvite}})
		next := monday10.Add(3*time.Hour + 32*time.Minute) // 14:32 in Paris (UTC+1 in March)
		f.paced(t, next)
		for _, get := range []struct {
			name string
			run  func() (Report, error)
		}{
			{"campaign", func() (Report, error) { return Campaign(f.ctx, f.deps, f.ws.ID, f.camp.ID, f.clock.Now()) }},
			{"account", func() (Report, error) { return Account(f.ctx, f.deps, f.ws.ID, f.acc.ID, f.clock.Now()) }},
		} {
			r, err := get.run()
			if err != nil {
				t.Fatal(err)
			}
			if !r.Sending {
				t.Fatalf("%s: a pacing wait is still sending: %+v", get.name, r)
			}
			if r.NextActionAt == nil || !r.NextActionAt.Equal(next) || r.NextActionAt.Location() != time.UTC {
				t.Fatalf("%s: next_action_at = %v, want %v in UTC", get.name, r.NextActionAt, next)
			}
			p := findingOf(r, policy.CodePacing)
			if p == nil || p.Severity != Info || p.ClearsAt == nil || !p.ClearsAt.Equal(next) {
				t.Fatalf("%s: pacing finding: %+v", get.name, r.Findings)
			}
			if p.Zone != "Europe/Paris" || r.Zone != "Europe/Paris" {
				t.Fatalf("%s: zones %q / %q", get.name, p.Zone, r.Zone)
			}
			if !strings.Contains(r.Headline, "14:32 (Europe/Paris)") || !strings.HasPrefix(r.Headline, "Sending — next ") {
				t.Fatalf("%s: headline %q", get.name, r.Headline)
			}
			if !strings.Contains(p.Message, "14:32 (Europe/Paris)") {
				t.Fatalf("%s: pacing sentence %q", get.name, p.Message)
			}
		}
	})
}

// The pacing sentence says which wait applies: the spread of the day's
// invitations over the window (which holds only invitations), or the
// spacing between two actions (which holds every action).
func TestPacingSentenceSpreadOrSpacing(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, engine db.Engine) {
		for _, c := range []struct {
			name   string
			used   int
			spread bool
			want   []string
		}{
			{"spread", 5, true, []string{"15 invitations left today are spread over the window until 18:00", "the next invitation at 14:32 (Europe/Paris)",
				"other actions only keep the"}},
			{"spacing", 19, false, []string{"Sender Ada keeps ", " between two actions", "next at 14:32 (Europe/Paris)"}},
		} {
			f := newFixture(t, engine, []campaign.Step{{ID: "s1", Type: campaign.StepInvite}})
			at := monday10.Add(3*time.Hour + 32*time.Minute)
			if c.spread {
				f.paced(t, f.clock.Now())
				f.exec(t, `UPDATE account_pacing SET spread_invite_until = $2 WHERE account_id = $1`, f.acc.ID, at)
			} else {
				f.paced(t, at)
			}
			f.ledger(t, "invite", c.used)
			r, err := Campaign(f.ctx, f.deps, f.ws.ID, f.camp.ID, f.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			p := findingOf(r, policy.CodePacing)
			if p == nil {
				t.Fatalf("%s: no pacing finding: %+v", c.name, r.Findings)
			}
			for _, w := range c.want {
				if !strings.Contains(p.Message, w) {
					t.Fatalf("%s: sentence %q lacks %q", c.name, p.Message, w)
				}
			}
		}
	})
}

// One sender outside its window does not stop a campaign whose other
// sender can send: it is sending, and the window finding only limits.
func TestOneSenderOutsideItsWindow(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, engine db.Engine) {
		f := newFixture(t, engine, inviteSteps())
		// 10:00 UTC on a Monday is 19:00 in Tokyo: outside 09:00–18:00.
		tokyo, err := f.deps.Accounts.Create(f.ctx, f.d.SQL, account.NewAccount{WorkspaceID: f.ws.ID, ProviderAccountID: "p2", Name: "Grace",
			Status: account.StatusConnected, Tier: account.TierPremium, Timezone: "Asia/Tokyo"})
		if err != nil {
			t.Fatal(err)
		}
		f.exec(t, `UPDATE linkedin_accounts SET ramp_started_at = $2 WHERE id = $1`, tokyo.ID, f.clock.Now().Add(-60*24*time.Hour))
		name := "Two senders"
		c, err := f.deps.Campaigns.Create(f.ctx, f.ws.ID, campaign.Input{Name: &name, AccountIDs: []string{f.acc.ID, tokyo.ID}, Steps: inviteSteps()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.deps.Campaigns.Import(f.ctx, c.ID, f.ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAthree", FirstName: "Three"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.deps.Campaigns.Start(f.ctx, f.ws.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		r, err := Campaign(f.ctx, f.deps, f.ws.ID, c.ID, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !r.Sending || r.Findings[0].Code != "sending" || !strings.Contains(r.Headline, "Ada can send") {
			t.Fatalf("one sender can send: %+v", r)
		}
		w := findingOf(r, policy.CodeWindow)
		if w == nil || w.Severity == Blocking || w.Zone != "Asia/Tokyo" || !strings.Contains(w.Message, "(Asia/Tokyo)") {
			t.Fatalf("window finding: %+v", r.Findings)
		}
	})
}

// A Free account cannot send InMails, and the diagnosis says so in those
// words rather than as a cap of zero.
func TestFreeAccountInMail(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, engine db.Engine) {
		f := newFixture(t, engine, []campaign.Step{{ID: "m1", Type: campaign.StepInMail, Subject: "Hi", Text: "Hello"}})
		f.exec(t, `UPDATE linkedin_accounts SET tier = 'free', cap_inmail_daily = 0 WHERE id = $1`, f.acc.ID)
		r, err := Campaign(f.ctx, f.deps, f.ws.ID, f.camp.ID, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if r.Sending || len(r.Findings) == 0 || r.Findings[0].Code != policy.CodeFreeInMail ||
			!strings.Contains(r.Findings[0].Message, "Free accounts cannot send InMails") || strings.Contains(r.Findings[0].Message, "cap") {
			t.Fatalf("campaign: %+v", r)
		}
		if !strings.HasPrefix(r.Headline, "Not sending: Free accounts cannot send InMails") {
			t.Fatalf("headline %q", r.Headline)
		}
		r, err = Account(f.ctx, f.deps, f.ws.ID, f.acc.ID, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if fd := findingOf(r, policy.CodeFreeInMail); fd == nil || !strings.Contains(fd.Message, "Free accounts cannot send InMails") {
			t.Fatalf("account: %+v", r.Findings)
		}
	})
}

// Counts are worded for one as for many.
func TestCountWording(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{1: "The one active prospect is waiting", 2: "All 2 active prospects are waiting"} {
		if got := allWaiting(n); got != want {
			t.Errorf("allWaiting(%d) = %q", n, got)
		}
	}
	if prospects(1) != "1 prospect" || prospects(3) != "3 prospects" {
		t.Errorf("prospects: %q %q", prospects(1), prospects(3))
	}
}
