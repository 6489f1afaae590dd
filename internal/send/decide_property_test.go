package send

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/unipile"
)

// propertySnapshots is how many random states the property test writes
// on each engine (docs/sending.md#one-policy asks for at least 10,000).
var propertySnapshots = func() int {
	if n := os.Getenv("KEEL_PROPERTY_STATES"); n != "" {
		v, _ := strconv.Atoi(n)
		return v
	}
	if raceDetector {
		return 500 // the race detector slows SQLite ~30×; CI runs 10,000 without it too
	}
	return 10_000
}()

// TestClaimAndDiagnosisAgreeOnRandomSnapshots writes random account, ledger,
// block and pacing states to the database and asks the one policy about
// each twice: on the snapshot the claim reads under its locks, and on the
// snapshot the diagnosis reads without them. The verdicts (allowed or not,
// code, sentence, until, gap) must be the same for every state.
func TestClaimAndDiagnosisAgreeOnRandomSnapshots(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		base := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		c := clock.NewFake(base)
		client, err := unipile.New(unipile.Options{BaseURL: "http://127.0.0.1:1", APIKey: "unused"})
		if err != nil {
			t.Fatal(err)
		}
		e, err := New(Options{DB: d, Accounts: account.NewService(d, c), Campaigns: campaign.NewService(d, c), Client: client, Clock: c})
		if err != nil {
			t.Fatal(err)
		}
		g := newStateGen(t, ctx, d, base)
		rng := rand.New(rand.NewPCG(7, 11))
		codes := map[string]int{}
		const batch = 50
		for done := 0; done < propertySnapshots; done += batch {
			states := g.write(rng, done, batch)
			for _, st := range states {
				draw := policy.Draw{Gap: rng.Float64(), Spread: rng.Float64()}
				acc, err := e.opts.Accounts.Get(ctx, d.SQL, "", st.accountID)
				if err != nil {
					t.Fatal(err)
				}
				// The diagnosis reads first: the claim creates a missing
				// pacing row (in a transaction rolled back here).
				diag, err := ReadSnapshot(ctx, d.SQL, SnapshotRequest{Account: acc, Campaign: st.campaign, Action: st.action,
					WithNote: st.withNote, Pacing: e.PacingOf(acc), Now: st.now})
				if err != nil {
					t.Fatal(err)
				}
				claim := claimSnapshotRolledBack(t, ctx, e, acc, st)
				dv, cv := policy.Decide(diag, st.now, draw), policy.Decide(claim, st.now, draw)
				if !sameVerdict(dv, cv) {
					t.Fatalf("state %s at %s: the claim decides %+v, the diagnosis %+v", st.accountID, st.now, cv, dv)
				}
				if !dv.Allowed && dv.Message == "" {
					t.Fatalf("state %s: a verdict without a sentence: %+v", st.accountID, dv)
				}
				code := dv.Code
				if dv.Allowed {
					code = "allowed"
				}
				codes[code]++
			}
		}
		// The generator must reach every verdict, or agreement proves little.
		for _, want := range []string{"allowed", policy.CodeNotConnected, policy.CodeCooldown, policy.CodeCredits, policy.CodeFreeInMail,
			policy.CodeIncident, policy.CodeWindow, policy.CodeDailyCap, policy.CodeRamp, policy.CodeWeeklyCap, policy.CodeNotes, policy.CodeCampaignCap, policy.CodePacing,
			policy.CodePendingInvitations} {
			if codes[want] == 0 {
				t.Errorf("no random state produced %s (got %v)", want, codes)
			}
		}
		t.Logf("%d states: %v", propertySnapshots, codes)
	})
}

// claimSnapshotRolledBack reads the claim's snapshot in a transaction that
// is rolled back, so the state stays as generated.
func claimSnapshotRolledBack(t *testing.T, ctx context.Context, e *Engine, acc account.Account, st genState) policy.Snapshot {
	t.Helper()
	tx, err := e.opts.DB.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	en := &enrollmentRow{accountID: acc.ID, account: acc}
	step := campaign.Step{ID: "s1", Type: campaign.StepMessage}
	if st.action == policy.ActionInvite {
		step = campaign.Step{ID: "s1", Type: campaign.StepInvite}
		if st.withNote {
			step.Note = "Hi"
		}
	}
	snap, err := e.claimSnapshot(ctx, tx, st.campaign, en, step, st.action, st.now)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// genState is one generated state: an account, what to ask, and when.
type genState struct {
	accountID string
	campaign  *campaign.Campaign
	action    policy.Action
	withNote  bool
	now       time.Time
}

// stateGen writes random states in batches, one multi-row insert per table.
type stateGen struct {
	t         *testing.T
	ctx       context.Context
	d         *db.DB
	base      time.Time
	campaigns []campaign.Campaign
	// enrollment and prospect every generated send hangs on, per campaign.
	enrollments, prospects []string
}

var genZones = []string{"UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "Asia/Kolkata"}

func newStateGen(t *testing.T, ctx context.Context, d *db.DB, base time.Time) *stateGen {
	g := &stateGen{t: t, ctx: ctx, d: d, base: base}
	g.exec(`INSERT INTO workspaces (id, slug, name, created_at) VALUES ('ws_prop', 'prop', '', $1)`, base)
	// A provider incident (the burst guard open) until the eighth hour of
	// the fourteen days the states' times fall in.
	g.exec(`UPDATE health_guard SET state = 'open', trips = 1, opened_at = $1, reopen_at = $2, updated_at = $1 WHERE id = 1`,
		base.Add(-time.Hour), base.Add(8*time.Hour))
	g.exec(`INSERT INTO linkedin_accounts (id, workspace_id, provider_account_id, name, status, tier, timezone, created_at, updated_at)
		VALUES ('acc_prop_base', 'ws_prop', 'prov_prop_base', 'Base', 'connected', 'premium', 'UTC', $1, $1)`, base)
	for i, caps := range [][4]int{{20, 20, 5, 20}, {3, 2, 1, 5}, {0, 5, 0, 1}, {100, 150, 50, 100}, {10, 10, 10, 10}} {
		id := fmt.Sprintf("cmp_prop_%d", i)
		g.exec(`INSERT INTO campaigns (id, workspace_id, name, status, steps, cap_invite, cap_message, cap_inmail, cap_view_profile, created_at, updated_at)
			VALUES ($1, 'ws_prop', $1, 'running', '[{"id":"s1","type":"view_profile"}]', $2, $3, $4, $5, $6, $6)`, id, caps[0], caps[1], caps[2], caps[3], base)
		g.exec(`INSERT INTO campaign_accounts (campaign_id, account_id, workspace_id, position, added_at) VALUES ($1, 'acc_prop_base', 'ws_prop', 0, $2)`, id, base)
		g.exec(`INSERT INTO prospects (id, workspace_id, provider_id, first_name, created_at, updated_at) VALUES ($1, 'ws_prop', $1, 'P', $2, $2)`,
			"pro_prop_"+id, base)
		g.exec(`INSERT INTO enrollments (id, workspace_id, campaign_id, prospect_id, account_id, created_at, updated_at)
			VALUES ($1, 'ws_prop', $2, $3, 'acc_prop_base', $4, $4)`, "enr_prop_"+id, id, "pro_prop_"+id, base)
		g.campaigns = append(g.campaigns, campaign.Campaign{ID: id, WorkspaceID: "ws_prop", Status: campaign.StatusRunning,
			DailyCaps: campaign.DailyCaps{Invite: caps[0], Message: caps[1], InMail: caps[2], ViewProfile: caps[3]}})
		g.enrollments = append(g.enrollments, "enr_prop_"+id)
		g.prospects = append(g.prospects, "pro_prop_"+id)
	}
	return g
}

func (g *stateGen) exec(q string, args ...any) {
	g.t.Helper()
	if _, err := g.d.SQL.ExecContext(g.ctx, q, args...); err != nil {
		g.t.Fatalf("%s: %v", q, err)
	}
}

// rows collects one multi-row insert.
type rows struct {
	cols   string
	tuples [][]any
}

func (r *rows) add(vals ...any) { r.tuples = append(r.tuples, vals) }

// exec inserts the rows a few at a time: SQLite finds numbered
// parameters in time quadratic in their count.
func (r *rows) exec(ctx context.Context, tx *sql.Tx, table string) error {
	for from := 0; from < len(r.tuples); {
		var (
			args []any
			ph   []string
		)
		to := from
		for ; to < len(r.tuples) && len(args)+len(r.tuples[to]) <= 900; to++ {
			marks := make([]string, len(r.tuples[to]))
			for k, v := range r.tuples[to] {
				args = append(args, v)
				marks[k] = fmt.Sprintf("$%d", len(args))
			}
			ph = append(ph, "("+strings.Join(marks, ", ")+")")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (`+r.cols+`) VALUES `+strings.Join(ph, ", "), args...); err != nil {
			return fmt.Errorf("inserting %d rows into %s: %w", to-from, table, err)
		}
		from = to
	}
	return nil
}

// write generates n random states numbered from first and writes them in
// one transaction.
func (g *stateGen) write(rng *rand.Rand, first, n int) []genState {
	g.t.Helper()
	accs := &rows{cols: `id, workspace_id, provider_account_id, name, status, last_error, disconnected_at, disconnected_by, tier, timezone,
		window_days, window_start, window_end, cap_invite_daily, cap_invite_weekly, cap_message_daily, cap_inmail_daily, cap_view_profile_daily,
		ramp_started_at, created_at, updated_at, cap_invite_pending, withdraw_after_days`}
	sends := &rows{cols: `id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state, with_note,
		claimed_at, dispatched_at, finished_at, error, chat_id`}
	blocks := &rows{cols: `account_id, action, kind, until, reason, created_at`}
	pacing := &rows{cols: `account_id, next_allowed_at, spread_invite_until, spread_message_until, spread_inmail_until, spread_view_profile_until,
		spread_withdraw_until`}
	invitations := &rows{cols: `id, workspace_id, account_id, send_id, prospect_id, provider_invitation_id, sent_at, withdraw_at`}
	var out []genState
	for i := first; i < first+n; i++ {
		id := fmt.Sprintf("acc_prop_%05d", i)
		now := g.base.Add(time.Duration(rng.IntN(14*24*60)) * time.Minute)
		if rng.IntN(20) == 0 {
			// A Free account whose invitation notes of 30 days may be used
			// up: a gate the fully random states seldom reach.
			ramp := now.Add(-60 * 24 * time.Hour)
			accs.add(id, "ws_prop", "prov_"+id, fmt.Sprintf("Sender %d", i), "connected", nil, nil, nil, string(account.TierFree),
				genZones[rng.IntN(len(genZones))], "mon,tue,wed,thu,fri,sat,sun", 0, 1440, 30, 100, 50, 0, 40, ramp, ramp, ramp, 400, 21)
			for k, n := 0, 4+rng.IntN(4); k < n; k++ {
				claimed := now.Add(-time.Duration(1+rng.IntN(28))*24*time.Hour - time.Duration(rng.IntN(3600))*time.Second)
				sends.add(fmt.Sprintf("snd_%s_%d", id, k), "ws_prop", id, g.campaigns[3].ID, g.enrollments[3], g.prospects[3],
					fmt.Sprintf("%s_%d", id, k), string(policy.ActionInvite), "confirmed", true, claimed, claimed, claimed, nil, nil)
			}
			out = append(out, genState{accountID: id, campaign: &g.campaigns[3], action: policy.ActionInvite, withNote: true, now: now})
			continue
		}
		tier := []account.Tier{account.TierFree, account.TierPremium, account.TierSalesNavigator, account.TierRecruiter}[rng.IntN(4)]
		ceil := policy.Ceilings(tier)
		caps := [5]int{rng.IntN(ceil.InviteDaily + 1), rng.IntN(ceil.InviteWeekly + 1), rng.IntN(ceil.MessageDaily + 1),
			rng.IntN(ceil.InMailDaily + 1), rng.IntN(ceil.ViewProfileDaily + 1)}
		if rng.IntN(3) == 0 { // small caps hit more often
			for k := range caps {
				caps[k] = min(caps[k], rng.IntN(8))
			}
		}
		status, lastErr, discAt, discBy := "connected", any(nil), any(nil), any(nil)
		if rng.IntN(12) == 0 {
			status = []string{"disconnected", "restricted", "error", "needs_verification", "connecting"}[rng.IntN(5)]
			lastErr, discAt, discBy = "Provider says no.", now.Add(-time.Hour), "webhook"
		}
		var days []string
		for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
			if rng.IntN(10) < 7 {
				days = append(days, d)
			}
		}
		if len(days) == 0 {
			days = []string{"wed"}
		}
		start := rng.IntN(40) * 30
		end := start + 30 + rng.IntN((1440-start)/30)*30
		end = min(end, 1440)
		if rng.IntN(2) == 0 { // open around the clock, so the later gates are reached
			days, start, end = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, 0, 1440
		}
		ramp := now.Add(-time.Duration(rng.IntN(60*24)) * time.Hour)
		// The pending cap: mostly the default, sometimes small enough that
		// the generated invitations reach it; withdrawals sometimes off.
		pendingCap, withdrawAfter := 400, 21
		if rng.IntN(3) == 0 {
			pendingCap = rng.IntN(6)
		}
		if rng.IntN(4) == 0 {
			withdrawAfter = 0
		}
		accs.add(id, "ws_prop", "prov_"+id, fmt.Sprintf("Sender %d", i), status, lastErr, discAt, discBy, string(tier),
			genZones[rng.IntN(len(genZones))], strings.Join(days, ","), start, end, caps[0], caps[1], caps[2], caps[3], caps[4], ramp, ramp, ramp,
			pendingCap, withdrawAfter)
		// Invitations made outside Keel, pending.
		for k, n := 0, rng.IntN(4); k < n; k++ {
			invitations.add(fmt.Sprintf("inv_%s_%d", id, k), "ws_prop", id, nil, nil, fmt.Sprintf("pi_%s_%d", id, k),
				now.Add(-time.Duration(rng.IntN(40*24))*time.Hour), nil)
		}

		st := genState{accountID: id, action: policy.Actions[rng.IntN(len(policy.Actions))], withNote: rng.IntN(2) == 0, now: now}
		var ci int
		if rng.IntN(5) > 0 && st.action != policy.ActionWithdraw { // a withdrawal has no campaign share
			ci = rng.IntN(len(g.campaigns))
			st.campaign = &g.campaigns[ci]
		}
		// The ledger: around the caps, over the last 35 days, in every state.
		nSends := rng.IntN(12)
		if rng.IntN(2) == 0 {
			nSends = rng.IntN(2*max(caps[0], caps[2], 3) + 2)
		}
		for k := 0; k < nSends; k++ {
			act := st.action
			if rng.IntN(4) == 0 {
				act = policy.Actions[rng.IntN(len(policy.Actions))]
			}
			var claimed time.Time
			switch rng.IntN(3) {
			case 0: // today (UTC)
				day := policy.UTCDayStart(now)
				claimed = day.Add(time.Duration(rng.Int64N(int64(now.Sub(day)) + 1)))
			case 1: // the rolling week
				claimed = now.Add(-time.Duration(rng.Int64N(int64(7 * 24 * time.Hour))))
			default: // the 30 days of notes, and older
				claimed = now.Add(-time.Duration(rng.Int64N(int64(35 * 24 * time.Hour))))
			}
			state := []string{"intent", "dispatched", "confirmed", "unknown", "failed", "cancelled", "confirmed", "confirmed"}[rng.IntN(8)]
			var dispatched, finished, errText, chat any
			if state != "intent" && state != "cancelled" {
				dispatched = claimed
			}
			if state == "confirmed" || state == "failed" || state == "cancelled" {
				finished = claimed
			}
			if state == "failed" || state == "cancelled" {
				errText = "generated"
			}
			if state == "confirmed" && (act == policy.ActionMessage || act == policy.ActionInMail) {
				chat = "chat"
			}
			camp := rng.IntN(len(g.campaigns))
			if rng.IntN(2) == 0 {
				camp = ci
			}
			if act == policy.ActionWithdraw {
				// A withdrawal withdraws a confirmed invitation of its step.
				sends.add(fmt.Sprintf("snd_%s_%d_i", id, k), "ws_prop", id, g.campaigns[camp].ID, g.enrollments[camp], g.prospects[camp],
					fmt.Sprintf("%s_%d", id, k), string(policy.ActionInvite), "confirmed", false, claimed, claimed, claimed, nil, nil)
			}
			if act == policy.ActionInvite && state == "confirmed" && rng.IntN(2) == 0 {
				// Pending, due for withdrawal around now (or never).
				var due any
				if withdrawAfter > 0 {
					due = now.Add(time.Duration(rng.IntN(48*60)-24*60) * time.Minute)
				}
				invitations.add(fmt.Sprintf("snd_%s_%d", id, k), "ws_prop", id, fmt.Sprintf("snd_%s_%d", id, k), g.prospects[camp], nil, claimed, due)
			}
			sends.add(fmt.Sprintf("snd_%s_%d", id, k), "ws_prop", id, g.campaigns[camp].ID, g.enrollments[camp], g.prospects[camp],
				fmt.Sprintf("%s_%d", id, k), string(act), state, act == policy.ActionInvite && rng.IntN(2) == 0, claimed, dispatched, finished, errText, chat)
		}
		if rng.IntN(4) == 0 {
			kind := policy.BlockCooldown
			if rng.IntN(2) == 0 {
				kind = policy.BlockCredits
			}
			until := now.Add(time.Duration(rng.IntN(20*60)-5*60) * time.Minute)
			act := st.action
			if rng.IntN(3) == 0 {
				act = policy.Actions[rng.IntN(len(policy.Actions))]
			}
			if kind == policy.BlockCredits {
				act = policy.ActionInMail // the database holds credits breakers to InMail
			}
			blocks.add(id, string(act), kind, until, "generated", now.Add(-time.Hour))
		}
		if rng.IntN(2) == 0 {
			vals := []any{id, now.Add(time.Duration(rng.IntN(4*60*60)-2*60*60) * time.Second)}
			for range policy.Actions {
				var spread any
				if rng.IntN(2) == 0 {
					spread = now.Add(time.Duration(rng.IntN(4*60*60)-2*60*60) * time.Second)
				}
				vals = append(vals, spread)
			}
			pacing.add(vals...)
		}
		out = append(out, st)
	}
	if err := g.d.InTx(g.ctx, func(tx *sql.Tx) error {
		for _, w := range []struct {
			r     *rows
			table string
		}{{accs, "linkedin_accounts"}, {sends, "sends"}, {blocks, "send_blocks"}, {pacing, "account_pacing"}, {invitations, "invitations"}} {
			if err := w.r.exec(g.ctx, tx, w.table); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		g.t.Fatal(err)
	}
	return out
}

// sameVerdict compares verdicts with instants compared as instants.
func sameVerdict(a, b policy.Verdict) bool {
	return a.Allowed == b.Allowed && a.Gap == b.Gap && a.Code == b.Code && a.Message == b.Message && a.Until.Equal(b.Until)
}
