package send_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/diagnose"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestPendingCapUnderConcurrentWorkers races eight workers for the last
// pending slots of two senders that already have invitations made outside
// Keel pending: no sender ever has more pending invitations than its cap
// (docs/sending.md#pending-invitations), and the workers do reach it.
func TestPendingCapUnderConcurrentWorkers(t *testing.T) {
	t.Parallel()
	const (
		senders    = 2
		pendingCap = 7
		outside    = 3
		prospects  = 30
	)
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := fake.New(fake.Options{})
		if err := f.Start("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		c := clock.Real{}
		accounts := account.NewService(d, c)
		camps := campaign.NewService(d, c)
		ws, err := workspace.Create(ctx, d.SQL, "pending", "", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		providers := map[string]string{}
		for i := 0; i < senders; i++ {
			pid := f.AddAccount(fake.AccountSpec{Name: fmt.Sprintf("P%d", i)})
			a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: pid, Status: account.StatusConnected, Tier: account.TierPremium})
			if err != nil {
				t.Fatal(err)
			}
			// Every gate open, a daily cap far above the pending cap: the
			// pending cap is what binds.
			if _, err := d.SQL.Exec(`UPDATE linkedin_accounts SET ramp_started_at = $2, window_days = 'sun,mon,tue,wed,thu,fri,sat',
				window_start = 0, window_end = 1440, cap_invite_daily = 50, cap_invite_weekly = 200, cap_invite_pending = $3 WHERE id = $1`,
				a.ID, c.Now().Add(-60*24*time.Hour), pendingCap); err != nil {
				t.Fatal(err)
			}
			for k := 0; k < outside; k++ {
				if _, err := d.SQL.Exec(`INSERT INTO invitations (id, workspace_id, account_id, provider_invitation_id, sent_at)
					VALUES ($1, $2, $3, $4, $5)`, fmt.Sprintf("inv_out_%d_%d", i, k), ws.ID, a.ID, fmt.Sprintf("out-%d-%d", i, k), c.Now().Add(-48*time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			ids = append(ids, a.ID)
			providers[pid] = a.ID
		}
		name := "race"
		camp, err := camps.Create(ctx, ws.ID, campaign.Input{Name: &name, AccountIDs: ids, Steps: []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}})
		if err != nil {
			t.Fatal(err)
		}
		rows := make([]campaign.ProspectRow, prospects)
		for i := range rows {
			pid := fmt.Sprintf("ACoAApend%03d", i)
			f.AddPerson(fake.Person{ProviderID: pid})
			rows[i] = campaign.ProspectRow{Row: i + 1, ProviderID: pid}
		}
		if _, err := camps.Import(ctx, camp.ID, ws.ID, rows); err != nil {
			t.Fatal(err)
		}
		if _, err := camps.Start(ctx, ws.ID, camp.ID); err != nil {
			t.Fatal(err)
		}

		e := concEngine(t, d, f.URL(), f.APIKey())
		want := senders * (pendingCap - outside)
		deadline := time.Now().Add(concRun)
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var full time.Time
				for time.Now().Before(deadline) && (full.IsZero() || time.Since(full) < concGrace) {
					if _, err := e.RunPass(ctx); err != nil {
						t.Errorf("pass: %v", err)
						return
					}
					var n int
					if err := d.SQL.QueryRowContext(ctx, `SELECT count(*) FROM sends WHERE action = 'invite' AND state = 'confirmed'`).Scan(&n); err != nil {
						t.Errorf("counting invitations: %v", err)
						return
					}
					if n >= want && full.IsZero() {
						full = time.Now()
					}
				}
			}()
		}
		wg.Wait()

		// Nothing accepts or withdraws here, so pending only grows: the
		// final count per sender bounds it at every instant.
		sent := map[string]int{}
		for _, call := range f.Calls() {
			if call.Action == fake.ActionInvite && call.Applied {
				sent[providers[call.AccountID]]++
			}
		}
		total := 0
		for _, id := range ids {
			if got := sent[id] + outside; got > pendingCap {
				t.Errorf("sender %s has %d pending invitations, cap %d", id, got, pendingCap)
			}
			total += sent[id]
			var pending int
			if err := d.SQL.QueryRow(`SELECT count(*) FROM invitations WHERE account_id = $1 AND state = 'pending'`, id).Scan(&pending); err != nil {
				t.Fatal(err)
			}
			if pending != sent[id]+outside {
				t.Errorf("sender %s: %d invitations recorded pending, %d sent + %d outside", id, pending, sent[id], outside)
			}
		}
		if total != want {
			t.Errorf("%d invitations sent, want exactly %d (the cap less those made outside Keel, per sender)", total, want)
		}
		var held int
		if err := d.SQL.QueryRow(`SELECT count(*) FROM enrollments WHERE parked_by = 'pending_invitations'`).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if held == 0 {
			t.Error("no prospect is parked by the pending cap")
		}
		r, err := diagnose.Campaign(ctx, diagnose.Deps{DB: d, Accounts: accounts, Campaigns: camps}, "", camp.ID, c.Now())
		if err != nil {
			t.Fatal(err)
		}
		pf := mustFinding(t, r, policy.CodePendingInvitations)
		if pf.ClearsAt == nil || pf.ClearsAt.Before(c.Now().Add(20*24*time.Hour)) || !strings.Contains(pf.Message, "pending invitations (its cap is 7)") {
			t.Errorf("the diagnosis names the pending cap and when the oldest invitation is withdrawn: %+v", pf)
		}
		t.Logf("%d invitations by 8 workers; %d prospects held by the pending cap; %q", total, held, pf.Message)
	})
}
