package send_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
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

// Concurrency test settings: every gate open all day, a small daily cap so
// workers race for the last slots, and pacing short enough to exhaust it in
// about a second of real time. concRun only bounds a slow machine: workers
// stop once every cap is used, plus concGrace of passes that find the caps
// full, so the figure does not depend on how busy the machine is.
const (
	concAccounts  = 4
	concCap       = 6
	concProspects = 60
	concRun       = 60 * time.Second
	concGrace     = 500 * time.Millisecond
)

// worker runs scheduler passes (which dispatch inline) until every cap is
// used (and concGrace more) or the deadline passes.
func worker(ctx context.Context, t testing.TB, e *send.Engine, d *db.DB, until time.Time) {
	var full time.Time
	for time.Now().Before(until) && (full.IsZero() || time.Since(full) < concGrace) {
		if _, err := e.RunPass(ctx); err != nil && ctx.Err() == nil {
			t.Errorf("pass: %v", err)
			return
		}
		if full.IsZero() {
			var n int
			if err := d.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM sends WHERE action = 'invite' AND state = 'confirmed'`).Scan(&n); err != nil {
				if ctx.Err() == nil {
					t.Errorf("counting confirmed invites: %v", err)
				}
				return
			}
			if n >= concCap*concAccounts {
				full = time.Now()
			}
		}
	}
}

func concEngine(t testing.TB, d *db.DB, fakeURL, apiKey string) *send.Engine {
	c := clock.Real{}
	accounts := account.NewService(d, c)
	camps := campaign.NewService(d, c)
	client, err := unipile.New(unipile.Options{BaseURL: fakeURL, APIKey: apiKey})
	if err != nil {
		t.Fatal(err)
	}
	e, err := send.New(send.Options{DB: d, Accounts: accounts, Campaigns: camps, Client: client, Clock: c,
		Pacing: &policy.Pacing{MinGap: 20 * time.Millisecond, MaxGap: 40 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestConcurrencyHelperProcess is the second process of
// TestConcurrentWorkersAndProcesses; it does nothing when run directly.
func TestConcurrencyHelperProcess(t *testing.T) {
	dsn := os.Getenv("KEEL_CONC_CHILD_DB")
	if dsn == "" {
		t.Skip("helper process for TestConcurrentWorkersAndProcesses")
	}
	d, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	until, _ := time.Parse(time.RFC3339Nano, os.Getenv("KEEL_CONC_CHILD_UNTIL"))
	e := concEngine(t, d, os.Getenv("KEEL_CONC_CHILD_FAKE"), os.Getenv("KEEL_CONC_CHILD_KEY"))
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); worker(context.Background(), t, e, d, until) }()
	}
	wg.Wait()
}

func TestConcurrentWorkersAndProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewPostgresSchema(t, false)
	d, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := fake.New(fake.Options{})
	if err := f.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })

	c := clock.Real{}
	accounts := account.NewService(d, c)
	camps := campaign.NewService(d, c)
	ws, err := workspace.Create(ctx, d.SQL, "conc", "", c.Now())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	providers := map[string]bool{}
	for i := 0; i < concAccounts; i++ {
		pid := f.AddAccount(fake.AccountSpec{Name: fmt.Sprintf("A%d", i)})
		providers[pid] = true
		a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: pid, Status: account.StatusConnected, Tier: account.TierPremium})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.SQL.Exec(`UPDATE linkedin_accounts SET ramp_started_at = $2, window_days = 'sun,mon,tue,wed,thu,fri,sat',
			window_start = 0, window_end = 1440, cap_invite_daily = $3 WHERE id = $1`, a.ID, c.Now().Add(-60*24*time.Hour), concCap); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	for _, name := range []string{"one", "two"} {
		n := name
		camp, err := camps.Create(ctx, ws.ID, campaign.Input{Name: &n, AccountIDs: ids, Steps: []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}})
		if err != nil {
			t.Fatal(err)
		}
		rows := make([]campaign.ProspectRow, concProspects)
		for i := range rows {
			pid := fmt.Sprintf("ACoAA%s%03d", name, i)
			f.AddPerson(fake.Person{ProviderID: pid})
			rows[i] = campaign.ProspectRow{Row: i + 1, ProviderID: pid}
		}
		if _, err := camps.Import(ctx, camp.ID, ws.ID, rows); err != nil {
			t.Fatal(err)
		}
		if _, err := camps.Start(ctx, ws.ID, camp.ID); err != nil {
			t.Fatal(err)
		}
	}

	until := time.Now().Add(concRun)
	child := exec.Command(os.Args[0], "-test.run=^TestConcurrencyHelperProcess$", "-test.count=1")
	child.Env = append(os.Environ(), "KEEL_CONC_CHILD_DB="+url, "KEEL_CONC_CHILD_UNTIL="+until.Format(time.RFC3339Nano),
		"KEEL_CONC_CHILD_FAKE="+f.URL(), "KEEL_CONC_CHILD_KEY="+f.APIKey())
	out := &syncWriter{}
	child.Stdout, child.Stderr = out, out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	e := concEngine(t, d, f.URL(), f.APIKey())
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); worker(ctx, t, e, d, until) }()
	}
	wg.Wait()
	if err := child.Wait(); err != nil {
		t.Fatalf("second process: %v\n%s", err, out.String())
	}

	perAccount := map[string]int{}
	perRecipient := map[string]int{}
	for _, call := range f.Calls() {
		if call.Action != fake.ActionInvite || !call.Applied {
			continue
		}
		// Caps are per UTC day; a run that crosses midnight counts each day.
		perAccount[call.AccountID+" "+call.Time.UTC().Format("2006-01-02")]++
		perRecipient[call.Recipient]++
	}
	total := 0
	for acc, n := range perAccount {
		total += n
		if !providers[acc[:len(acc)-11]] {
			t.Errorf("invite from unknown account %s", acc)
		}
		if n > concCap {
			t.Errorf("account %s sent %d invites, cap %d", acc, n, concCap)
		}
	}
	for r, n := range perRecipient {
		if n > 1 {
			t.Errorf("prospect %s invited %d times", r, n)
		}
	}
	t.Logf("invites sent: %d (cap %d × %d accounts) by 8 workers and a second process", total, concCap, concAccounts)
	if total < concCap*concAccounts {
		t.Errorf("only %d invites: the workers did not reach the caps, so the test proved little", total)
	}
}

type syncWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
