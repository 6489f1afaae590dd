package diagnose

import (
	"context"
	"database/sql"
	"fmt"
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

// monday10 is inside the default window (Mon–Fri 09:00–18:00 UTC).
var monday10 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

type fixture struct {
	ctx   context.Context
	d     *db.DB
	clock *clock.Fake
	deps  Deps
	ws    workspace.Workspace
	acc   account.Account
	camp  campaign.Campaign
}

func newFixture(t *testing.T, engine db.Engine, steps []campaign.Step) *fixture {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, engine, dbtest.Options{})
	c := clock.NewFake(monday10.Add(-time.Hour))
	f := &fixture{ctx: ctx, d: d, clock: c}
	f.deps = Deps{DB: d, Accounts: account.NewService(d, c), Campaigns: campaign.NewService(d, c)}
	f.deps.Accounts.OnFlip("campaigns", f.deps.Campaigns.OnAccountFlip)
	var err error
	if f.ws, err = workspace.Create(ctx, d.SQL, "diag", "", c.Now()); err != nil {
		t.Fatal(err)
	}
	if f.acc, err = f.deps.Accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: f.ws.ID, ProviderAccountID: "p1", Name: "Ada",
		Status: account.StatusConnected, Tier: account.TierPremium}); err != nil {
		t.Fatal(err)
	}
	// Fully ramped unless a situation says otherwise.
	f.exec(t, `UPDATE linkedin_accounts SET ramp_started_at = $2 WHERE id = $1`, f.acc.ID, c.Now().Add(-60*24*time.Hour))
	name := "Diag"
	if f.camp, err = f.deps.Campaigns.Create(ctx, f.ws.ID, campaign.Input{Name: &name, AccountIDs: []string{f.acc.ID}, Steps: steps}); err != nil {
		t.Fatal(err)
	}
	rows := []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAone", FirstName: "One"}, {Row: 2, ProviderID: "ACoAAtwo", FirstName: "Two"}}
	if _, err := f.deps.Campaigns.Import(ctx, f.camp.ID, f.ws.ID, rows); err != nil {
		t.Fatal(err)
	}
	if f.camp, err = f.deps.Campaigns.Start(ctx, f.ws.ID, f.camp.ID); err != nil {
		t.Fatal(err)
	}
	c.Set(monday10)
	return f
}

func (f *fixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := f.d.SQL.ExecContext(f.ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// ledger writes confirmed sends of an action claimed today.
func (f *fixture) ledger(t *testing.T, action string, n int) {
	t.Helper()
	var enrollmentID, prospectID string
	if err := f.d.SQL.QueryRow(`SELECT id, prospect_id FROM enrollments WHERE campaign_id = $1 LIMIT 1`, f.camp.ID).Scan(&enrollmentID, &prospectID); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		at := f.clock.Now().Add(-time.Duration(i+1) * time.Minute)
		f.exec(t, `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state,
			claimed_at, dispatched_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'confirmed', $9, $9, $9)`,
			fmt.Sprintf("snd_fixture_%s_%d", action, i), f.ws.ID, f.acc.ID, f.camp.ID, enrollmentID, prospectID,
			fmt.Sprintf("fixture-%d", i), action, at)
	}
}

// noted writes confirmed invitations with a note, claimed over the past days.
func (f *fixture) noted(t *testing.T, n int) {
	t.Helper()
	var enrollmentID, prospectID string
	if err := f.d.SQL.QueryRow(`SELECT id, prospect_id FROM enrollments WHERE campaign_id = $1 LIMIT 1`, f.camp.ID).Scan(&enrollmentID, &prospectID); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		at := f.clock.Now().Add(-time.Duration(i+1) * 24 * time.Hour)
		f.exec(t, `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state,
			with_note, claimed_at, dispatched_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'invite', 'confirmed', true, $8, $8, $8)`,
			fmt.Sprintf("snd_noted_%d", i), f.ws.ID, f.acc.ID, f.camp.ID, enrollmentID, prospectID, fmt.Sprintf("noted-%d", i), at)
	}
}

func inviteSteps() []campaign.Step {
	return []campaign.Step{{ID: "s1", Type: campaign.StepInvite}, {ID: "s2", Type: campaign.StepIfAccepted, Within: "168h", Then: "s3", Else: campaign.End},
		{ID: "s3", Type: campaign.StepMessage, Text: "Hi {{first_name}}"}}
}

func TestCampaignDiagnosisNamesTheFirstFinding(t *testing.T) {
	t.Parallel()
	c := account.TerminalCredentials()
	situations := []struct {
		name  string
		steps []campaign.Step
		setup func(t *testing.T, f *fixture)
		want  string
	}{
		{"healthy", inviteSteps(), func(t *testing.T, f *fixture) {}, "sending"},
		{"window closed", inviteSteps(), func(t *testing.T, f *fixture) { f.clock.Set(monday10.Add(5 * 24 * time.Hour)) }, "window_closed"},
		{"daily cap reached", []campaign.Step{{ID: "s1", Type: campaign.StepInvite}}, func(t *testing.T, f *fixture) { f.ledger(t, "invite", 20) }, "daily_cap"},
		{"ramp binding", []campaign.Step{{ID: "s1", Type: campaign.StepInvite}}, func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE linkedin_accounts SET ramp_started_at = $2 WHERE id = $1`, f.acc.ID, f.clock.Now().Add(-24*time.Hour))
			f.ledger(t, "invite", 5)
		}, "ramp_binding"},
		{"cooldown", []campaign.Step{{ID: "s1", Type: campaign.StepInvite}}, func(t *testing.T, f *fixture) {
			if err := send.SetBlock(f.ctx, f.d.SQL, send.Block{AccountID: f.acc.ID, Action: policy.ActionInvite, Kind: policy.BlockCooldown,
				Until: f.clock.Now().Add(5 * time.Hour), Reason: "429"}, f.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}, "cooldown"},
		{"inmail credits", []campaign.Step{{ID: "m1", Type: campaign.StepInMail, Subject: "Hi", Text: "Hello"}}, func(t *testing.T, f *fixture) {
			if err := send.SetBlock(f.ctx, f.d.SQL, send.Block{AccountID: f.acc.ID, Action: policy.ActionInMail, Kind: policy.BlockCredits,
				Until: policy.NextMonthStart(f.clock.Now()), Reason: "credits"}, f.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}, "inmail_credits"},
		{"no prospects left", inviteSteps(), func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE enrollments SET state = 'failed', last_error = 'x', next_action_at = NULL WHERE campaign_id = $1`, f.camp.ID)
		}, "no_prospects"},
		{"account disconnected", inviteSteps(), func(t *testing.T, f *fixture) {
			if _, err := f.deps.Accounts.Flip(f.ctx, account.FlipRequest{AccountID: f.acc.ID, To: account.StatusDisconnected, Copy: &c,
				Reason: "CREDENTIALS", Source: account.SourceWebhook}); err != nil {
				t.Fatal(err)
			}
		}, "campaign_paused_account_disconnected"},
		{"manual pause", inviteSteps(), func(t *testing.T, f *fixture) {
			if _, err := f.deps.Campaigns.Pause(f.ctx, f.ws.ID, f.camp.ID); err != nil {
				t.Fatal(err)
			}
		}, "campaign_paused_manual"},
		{"high failure rate", inviteSteps(), func(t *testing.T, f *fixture) {
			if err := f.d.InTx(f.ctx, func(tx *sql.Tx) error {
				_, err := f.deps.Campaigns.PauseTx(f.ctx, tx, f.camp.ID, campaign.ReasonHighFailureRate)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}, "campaign_paused_high_failure_rate"},
		{"all waiting", inviteSteps(), func(t *testing.T, f *fixture) {
			// Every prospect waits at the condition (no action is due).
			f.exec(t, `UPDATE enrollments SET step_id = 's2', state = 'active', next_action_at = $2 WHERE campaign_id = $1`,
				f.camp.ID, f.clock.Now().Add(3*time.Hour))
		}, "all_waiting"},
		{"free notes used", []campaign.Step{{ID: "s1", Type: campaign.StepInvite, Note: "Hi {{first_name}}"}}, func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE linkedin_accounts SET tier = 'free', cap_inmail_daily = 0 WHERE id = $1`, f.acc.ID)
			f.noted(t, policy.FreeNotesPer30Days)
		}, "invitation_notes"},
		{"campaign share used", []campaign.Step{{ID: "s1", Type: campaign.StepInvite}}, func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE campaigns SET cap_invite = 3 WHERE id = $1`, f.camp.ID)
			f.ledger(t, "invite", 3)
		}, "campaign_cap"},
	}
	for _, engine := range dbtest.Engines {
		for _, s := range situations {
			t.Run(string(engine)+"/"+s.name, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, engine, s.steps)
				s.setup(t, f)
				r, err := Campaign(f.ctx, f.deps, f.ws.ID, f.camp.ID, f.clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Findings) == 0 || r.Findings[0].Code != s.want {
					t.Fatalf("first finding: got %+v, want %s", r.Findings, s.want)
				}
				if (s.want == "sending") != r.Sending {
					t.Fatalf("sending = %v with findings %+v", r.Sending, r.Findings)
				}
				for _, fd := range r.Findings {
					if fd.Message == "" || fd.Severity == "" {
						t.Fatalf("finding without a sentence or severity: %+v", fd)
					}
				}
			})
		}
	}
}

func TestAccountDiagnosis(t *testing.T) {
	t.Parallel()
	f := newFixture(t, db.SQLite, inviteSteps())
	r, err := Account(f.ctx, f.deps, f.ws.ID, f.acc.ID, f.clock.Now())
	if err != nil || !r.Sending || r.Findings[0].Code != "sending" {
		t.Fatalf("healthy account: %+v %v", r, err)
	}
	c := account.TerminalCredentials()
	if _, err := f.deps.Accounts.Flip(f.ctx, account.FlipRequest{AccountID: f.acc.ID, To: account.StatusDisconnected, Copy: &c,
		Reason: "CREDENTIALS", Source: account.SourceWebhook}); err != nil {
		t.Fatal(err)
	}
	r, _ = Account(f.ctx, f.deps, f.ws.ID, f.acc.ID, f.clock.Now())
	if r.Sending || r.Findings[0].Code != "account_not_connected" {
		t.Fatalf("disconnected account: %+v", r)
	}
}
