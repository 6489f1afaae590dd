package chaos

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/workspace"
)

// harness is one database, one fake Unipile on loopback and the `keel
// worker` processes running against both.
type harness struct {
	t    testing.TB
	ctx  context.Context
	url  string
	d    *db.DB
	fake *fake.Server
	bin  string
	dir  string
	env  []string

	accounts *account.Service
	camps    *campaign.Service
	ws       workspace.Workspace
	senders  []sender
	campIDs  []string

	mu      sync.Mutex
	procs   map[int]*proc
	nextID  int
	starts  int
	kills   int
	crashes []*proc
}

// sender is a seeded account.
type sender struct {
	id, provider string
	loc          *time.Location
}

// proc is one running `keel worker`.
type proc struct {
	id   int
	cmd  *exec.Cmd
	done chan struct{}
	log  string
	// ended is set before the harness kills or stops the process; a
	// process that exits without it crashed.
	ended atomic.Bool
}

// harnessOptions shape a harness.
type harnessOptions struct {
	// Durable keeps PostgreSQL's commit flush (benchmarks); tests skip it.
	Durable bool
	// Workers is KEEL_WORKERS per process.
	Workers int
	// HealthInterval is KEEL_HEALTH_INTERVAL.
	HealthInterval time.Duration
}

// buildKeel builds the keel binary once per test into dir.
func buildKeel(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "keel")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/keel-outreach/keel/cmd/keel")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building keel: %v\n%s", err, out)
	}
	return bin
}

func newHarness(t testing.TB, opts harnessOptions) *harness {
	t.Helper()
	ctx := context.Background()
	url := dbtest.NewPostgresSchema(t, opts.Durable)
	d, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := app.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	f := fake.New(fake.Options{})
	if err := f.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	h := &harness{t: t, ctx: ctx, url: url, d: d, fake: f, dir: dir, bin: buildKeel(t, dir),
		accounts: account.NewService(d, clock.Real{}), camps: campaign.NewService(d, clock.Real{}), procs: map[int]*proc{}}
	// Stop the processes before the fake and the schema go away.
	t.Cleanup(func() { h.stopAll(); f.Close() })
	if opts.Workers == 0 {
		opts.Workers = 10
	}
	if opts.HealthInterval == 0 {
		opts.HealthInterval = time.Minute
	}
	h.env = []string{
		"KEEL_DATABASE_URL=" + url,
		"UNIPILE_DSN=" + f.URL(),
		"UNIPILE_API_KEY=" + f.APIKey(),
		"KEEL_WEBHOOK_SECRET=chaos-webhook-secret",
		"KEEL_PUBLIC_URL=http://127.0.0.1:9",
		"KEEL_SCHEDULER_INTERVAL=1s",
		"KEEL_MIN_SPACING=1s",
		"KEEL_HEALTH_INTERVAL=" + opts.HealthInterval.String(),
		fmt.Sprintf("KEEL_WORKERS=%d", opts.Workers),
		"KEEL_LOG_LEVEL=warn",
		"KEEL_LOG_FORMAT=json",
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
	}
	if h.ws, err = workspace.Create(ctx, d.SQL, "chaos", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	return h
}

// seedOptions describe the work to seed.
type seedOptions struct {
	Accounts int
	// Invites is the number of invitation prospects per account (one
	// campaign shared by every account).
	Invites int
	// Messages is the number of message prospects per account, each
	// already a first-degree relation (one campaign per account); 0 skips.
	Messages int
	// Caps and pacing written on every account.
	InviteDaily, InvitePending, MessageDaily int
	MinGap, MaxGap                           int // seconds
}

var timezones = []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "America/Los_Angeles"}

// seed creates connected accounts whose window is always open (so the run
// does not depend on the hour), caps and pacing as asked, and started
// campaigns with their prospects.
func (h *harness) seed(o seedOptions) {
	t, ctx := h.t, h.ctx
	t.Helper()
	var ids []string
	for i := 0; i < o.Accounts; i++ {
		name := fmt.Sprintf("Sender %03d", i)
		tz := timezones[i%len(timezones)]
		pid := h.fake.AddAccount(fake.AccountSpec{Name: name})
		a, err := h.accounts.Create(ctx, h.d.SQL, account.NewAccount{WorkspaceID: h.ws.ID, ProviderAccountID: pid, Name: name,
			Status: account.StatusConnected, Tier: account.TierPremium, Timezone: tz})
		if err != nil {
			t.Fatal(err)
		}
		// Settings straight in the table: the ramp is long past, the window
		// is the whole week, caps and pacing are the run's.
		if _, err := h.d.SQL.ExecContext(ctx, `UPDATE linkedin_accounts SET ramp_started_at = $2,
			window_days = 'sun,mon,tue,wed,thu,fri,sat', window_start = 0, window_end = 1440,
			cap_invite_daily = $3, cap_invite_weekly = $3, cap_invite_pending = $4, cap_message_daily = $5,
			pacing_spread = false, pacing_min_gap_seconds = $6, pacing_max_gap_seconds = $7 WHERE id = $1`,
			a.ID, time.Now().Add(-90*24*time.Hour), o.InviteDaily, o.InvitePending, o.MessageDaily, o.MinGap, o.MaxGap); err != nil {
			t.Fatal(err)
		}
		loc, _ := time.LoadLocation(tz)
		h.senders = append(h.senders, sender{id: a.ID, provider: pid, loc: loc})
		ids = append(ids, a.ID)
	}
	inv, msg, inm, view := 100, 150, 50, 100
	caps := &campaign.CapsInput{Invite: &inv, Message: &msg, InMail: &inm, ViewProfile: &view}
	newCampaign := func(name string, accountIDs []string, steps []campaign.Step, rows []campaign.ProspectRow) {
		c, err := h.camps.Create(ctx, h.ws.ID, campaign.Input{Name: &name, AccountIDs: accountIDs, Steps: steps, DailyCaps: caps})
		if err != nil {
			t.Fatalf("creating campaign %s: %v", name, err)
		}
		if res, err := h.camps.Import(ctx, c.ID, h.ws.ID, rows); err != nil || res.Imported != len(rows) {
			t.Fatalf("importing into %s: %+v %v", name, res, err)
		}
		if _, err := h.camps.Start(ctx, h.ws.ID, c.ID); err != nil {
			t.Fatalf("starting %s: %v", name, err)
		}
		h.campIDs = append(h.campIDs, c.ID)
	}
	// A campaign has at most 50 senders: one invitation campaign per 50.
	for g := 0; g < len(ids) && o.Invites > 0; g += 50 {
		group := ids[g:min(g+50, len(ids))]
		rows := make([]campaign.ProspectRow, len(group)*o.Invites)
		for i := range rows {
			pid := fmt.Sprintf("ACoAAinv%03d%06d", g/50, i)
			h.fake.AddPerson(fake.Person{ProviderID: pid, PublicIdentifier: fmt.Sprintf("inv-%d-%d", g/50, i), FirstName: "Inv"})
			rows[i] = campaign.ProspectRow{Row: i + 1, ProviderID: pid, FirstName: "Inv"}
		}
		newCampaign(fmt.Sprintf("invitations %d", g/50), group, []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}, rows)
	}
	for ai, s := range h.senders {
		if o.Messages == 0 {
			break
		}
		rows := make([]campaign.ProspectRow, o.Messages)
		for i := range rows {
			pid := fmt.Sprintf("ACoAAmsg%03d%05d", ai, i)
			h.fake.AddPerson(fake.Person{ProviderID: pid, PublicIdentifier: fmt.Sprintf("msg-%d-%d", ai, i), FirstName: "Msg"})
			if _, err := h.fake.AddRelation(s.provider, pid); err != nil {
				t.Fatal(err)
			}
			rows[i] = campaign.ProspectRow{Row: i + 1, ProviderID: pid, FirstName: "Msg"}
		}
		newCampaign(fmt.Sprintf("messages %03d", ai), []string{s.id},
			[]campaign.Step{{ID: "m1", Type: campaign.StepMessage, Text: "Hello {{first_name}}, a chaos test says hi."}}, rows)
	}
}

// pauseCampaigns stops new claims, as an operator would before a
// maintenance window; sends already claimed still settle.
func (h *harness) pauseCampaigns() {
	for _, id := range h.campIDs {
		if _, err := h.camps.Pause(h.ctx, h.ws.ID, id); err != nil {
			h.t.Fatalf("pausing campaign %s: %v", id, err)
		}
	}
}

// start runs one more `keel worker` process.
func (h *harness) start() *proc {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nextID++
	p := &proc{id: h.nextID, done: make(chan struct{}), log: filepath.Join(h.dir, fmt.Sprintf("worker-%03d.log", h.nextID))}
	out, err := os.Create(p.log)
	if err != nil {
		h.t.Fatal(err)
	}
	p.cmd = exec.Command(h.bin, "worker")
	p.cmd.Env = h.env
	// A worker dies with the test process, however that ends.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		out.Close()
		h.t.Fatalf("starting keel worker: %v", err)
	}
	h.starts++
	h.procs[p.id] = p
	go func() {
		_ = p.cmd.Wait()
		out.Close()
		if !p.ended.Load() {
			h.mu.Lock()
			h.crashes = append(h.crashes, p)
			h.mu.Unlock()
		}
		close(p.done)
	}()
	return p
}

// running lists the live processes.
func (h *harness) running() []*proc {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*proc
	for _, p := range h.procs {
		select {
		case <-p.done:
			delete(h.procs, p.id)
		default:
			out = append(out, p)
		}
	}
	return out
}

// kill SIGKILLs p and waits for it to be gone.
func (h *harness) kill(p *proc) {
	p.ended.Store(true)
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	h.mu.Lock()
	delete(h.procs, p.id)
	h.kills++
	h.mu.Unlock()
}

// stop ends p gracefully (SIGTERM), killing it if it lingers.
func (h *harness) stop(p *proc) {
	p.ended.Store(true)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
	h.mu.Lock()
	delete(h.procs, p.id)
	h.mu.Unlock()
}

// stopAll stops every process.
func (h *harness) stopAll() {
	var wg sync.WaitGroup
	for _, p := range h.running() {
		wg.Add(1)
		go func(p *proc) { defer wg.Done(); h.stop(p) }(p)
	}
	wg.Wait()
}

// crashed lists the processes that exited on their own.
func (h *harness) crashed() []*proc {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*proc(nil), h.crashes...)
}

// logTail is the end of p's output.
func (h *harness) logTail(p *proc) string {
	b, _ := os.ReadFile(p.log)
	s := string(b)
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return strings.TrimSpace(s)
}

// count runs a COUNT query.
func (h *harness) count(query string, args ...any) int {
	var n int
	if err := h.d.SQL.QueryRowContext(h.ctx, query, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
	return n
}
