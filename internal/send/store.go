package send

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/health"
	"github.com/keel-outreach/keel/internal/policy"
)

// This file is the sender's one door to SQL: the ledger (sends), the
// blocks (send_blocks), pacing (account_pacing) and the reads a claim
// joins. Enrollment state is not written here: the campaign package owns
// it (see docs/architecture.md, "Enrollment state").

// --- the ledger, read by caps, diagnosis and the UI ---

// Used counts an account's ledger rows for an action since a moment.
func Used(ctx context.Context, q db.Querier, accountID string, a policy.Action, since time.Time) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sends
		WHERE account_id = $1 AND action IN ($2, $4) AND claimed_at >= $3 AND state IN `+CountedStates,
		accountID, string(a), since, string(alsoCounted(a))).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting %s sends of account %s: %w", a, accountID, err)
	}
	return n, nil
}

// CampaignUsed counts a campaign's ledger rows on one sender account for an
// action since a moment (a campaign's daily caps are per sender).
func CampaignUsed(ctx context.Context, q db.Querier, campaignID, accountID string, a policy.Action, since time.Time) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sends
		WHERE campaign_id = $1 AND account_id = $2 AND action = $3 AND claimed_at >= $4 AND state IN `+CountedStates,
		campaignID, accountID, string(a), since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting %s sends of campaign %s: %w", a, campaignID, err)
	}
	return n, nil
}

// claimTimes lists when an account's counted sends of an action since a
// moment were claimed, oldest first (optionally only invitations with a
// note): the rolling windows the decision counts.
func claimTimes(ctx context.Context, q db.Querier, accountID string, a policy.Action, since time.Time, notesOnly bool) ([]time.Time, error) {
	query := `SELECT claimed_at FROM sends WHERE account_id = $1 AND action = $2 AND claimed_at >= $3 AND state IN ` + CountedStates
	args := []any{accountID, string(a), since}
	if notesOnly {
		query += ` AND with_note = $4`
		args = append(args, true)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY claimed_at`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing %s sends of account %s: %w", a, accountID, err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var t time.Time
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("listing %s sends of account %s: %w", a, accountID, err)
		}
		out = append(out, t.UTC())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing %s sends of account %s: %w", a, accountID, err)
	}
	return out, nil
}

// usageKey is one account's one action in ledgerCounts.
type usageKey struct {
	account string
	action  policy.Action
}

// ledgerCounts counts, in one grouped query, the counted ledger rows of
// each account and action since day (today) and since since (the rolling
// week).
func ledgerCounts(ctx context.Context, q db.Querier, accountIDs []string, day, since time.Time) (today, week map[usageKey]int, err error) {
	args := []any{day, since}
	ph := make([]string, len(accountIDs))
	for i, a := range accountIDs {
		args = append(args, a)
		ph[i] = "$" + strconv.Itoa(len(args))
	}
	today, week = map[usageKey]int{}, map[usageKey]int{}
	rows, err := q.QueryContext(ctx, `SELECT account_id, action, SUM(CASE WHEN claimed_at >= $1 THEN 1 ELSE 0 END), COUNT(*)
		FROM sends WHERE claimed_at >= $2 AND state IN `+CountedStates+`
		AND account_id IN (`+strings.Join(ph, ", ")+`) GROUP BY account_id, action`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("counting sends of %d accounts: %w", len(accountIDs), err)
	}
	defer rows.Close()
	for rows.Next() {
		var k usageKey
		var d, w int
		if err := rows.Scan(&k.account, &k.action, &d, &w); err != nil {
			return nil, nil, fmt.Errorf("counting sends of %d accounts: %w", len(accountIDs), err)
		}
		if k.action == policy.ActionReply {
			k.action = policy.ActionMessage // replies use the message cap
		}
		today[k] += d
		week[k] += w
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("counting sends of %d accounts: %w", len(accountIDs), err)
	}
	return today, week, nil
}

// CampaignStepStates counts a campaign's ledger rows by step and state
// (every state, removed steps included): the campaign page's funnel.
func CampaignStepStates(ctx context.Context, q db.Querier, campaignID string) (map[string]map[string]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT step_id, state, COUNT(*) FROM sends WHERE campaign_id = $1 AND action <> 'withdraw' GROUP BY step_id, state`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("counting the funnel of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	counts := map[string]map[string]int{}
	for rows.Next() {
		var step, state string
		var n int
		if err := rows.Scan(&step, &state, &n); err != nil {
			return nil, fmt.Errorf("counting the funnel of campaign %s: %w", campaignID, err)
		}
		if counts[step] == nil {
			counts[step] = map[string]int{}
		}
		counts[step][state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting the funnel of campaign %s: %w", campaignID, err)
	}
	return counts, nil
}

// CampaignDailySends counts a campaign's counted ledger rows per UTC day
// for days days from the day starting at first, in one query: the
// campaign page's chart.
func CampaignDailySends(ctx context.Context, q db.Querier, campaignID string, first time.Time, days int) ([]int, error) {
	// One count per day, each a range of sends_campaign_action_idx
	// (campaign, action, claimed_at) per action: the day's bounds are
	// compared once per range, not once per send and day (on SQLite each
	// such comparison of a TIMESTAMP column with a bound time converts the
	// text again).
	args := []any{campaignID}
	cols := make([]string, days)
	for i := 0; i < days; i++ {
		args = append(args, first.Add(time.Duration(i)*24*time.Hour), first.Add(time.Duration(i+1)*24*time.Hour))
		cols[i] = fmt.Sprintf(`(SELECT count(*) FROM sends WHERE campaign_id = $1 AND action IN `+allActions+`
			AND claimed_at >= $%d AND claimed_at < $%d AND state IN `+CountedStates+`)`, len(args)-1, len(args))
	}
	row := q.QueryRowContext(ctx, `SELECT `+strings.Join(cols, ", "), args...)
	counts := make([]int, days)
	dest := make([]any, days)
	for i := range counts {
		dest[i] = &counts[i]
	}
	if err := row.Scan(dest...); err != nil {
		return nil, fmt.Errorf("counting sends per day of campaign %s: %w", campaignID, err)
	}
	return counts, nil
}

// --- blocks ---

// ActiveBlock returns the block holding an action on an account at now, if any.
func ActiveBlock(ctx context.Context, q db.Querier, accountID string, a policy.Action, now time.Time) (*Block, error) {
	var b Block
	err := q.QueryRowContext(ctx, `SELECT account_id, action, kind, until, reason FROM send_blocks
		WHERE account_id = $1 AND action = $2 AND until > $3 ORDER BY until DESC LIMIT 1`,
		accountID, string(a), now).Scan(&b.AccountID, &b.Action, &b.Kind, &b.Until, &b.Reason)
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading blocks of account %s: %w", accountID, err)
	}
	b.Until = b.Until.UTC()
	return &b, nil
}

// SetBlock records (or extends) a cooldown or breaker.
func SetBlock(ctx context.Context, q db.Querier, b Block, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO send_blocks (account_id, action, kind, until, reason, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (account_id, action, kind) DO UPDATE SET until = excluded.until, reason = excluded.reason,
			created_at = excluded.created_at`,
		b.AccountID, string(b.Action), b.Kind, b.Until, b.Reason, now)
	if err != nil {
		return fmt.Errorf("recording %s block on account %s: %w", b.Kind, b.AccountID, err)
	}
	return nil
}

// --- the scheduler pass ---

// dueEnrollment is one due enrollment a pass looks at.
type dueEnrollment struct{ id, account string }

// dueEnrollments lists the first few due active enrollments of each
// account of a running campaign (at most perAccount each, limit in all),
// the earliest due first. Where the engine has LATERAL, each account's few
// are read from the front of enrollments_account_due_idx, so a pass costs
// one short index read per account however many enrollments are due (a
// backlog of hundreds of thousands sorted whole outran the pass's deadline;
// docs/benchmarks.md#scheduler-pass-at-10000000-enrollments).
func (e *Engine) dueEnrollments(ctx context.Context, now time.Time, perAccount, limit int) ([]dueEnrollment, error) {
	query := `
		SELECT id, account_id FROM (
			SELECT en.id, en.account_id, en.next_action_at,
			       ROW_NUMBER() OVER (PARTITION BY en.account_id ORDER BY en.next_action_at, en.id) AS rn
			  FROM enrollments en JOIN campaigns c ON c.id = en.campaign_id
			 WHERE en.state = 'active' AND en.next_action_at <= $1 AND c.status = 'running') due
		 WHERE rn <= $2 ORDER BY next_action_at, id LIMIT $3`
	if e.opts.DB.HasLateral() {
		query = `
		SELECT due.id, due.account_id FROM linkedin_accounts a CROSS JOIN LATERAL (
			SELECT en.id, en.account_id, en.next_action_at
			  FROM enrollments en JOIN campaigns c ON c.id = en.campaign_id
			 WHERE en.account_id = a.id AND en.state = 'active' AND en.next_action_at <= $1 AND c.status = 'running'
			 ORDER BY en.next_action_at, en.id LIMIT $2) due
		 ORDER BY due.next_action_at, due.id LIMIT $3`
	}
	rows, err := e.opts.DB.SQL.QueryContext(ctx, query, now, perAccount, limit)
	if err != nil {
		return nil, fmt.Errorf("finding due enrollments: %w", err)
	}
	defer rows.Close()
	var list []dueEnrollment
	for rows.Next() {
		var d dueEnrollment
		if err := rows.Scan(&d.id, &d.account); err != nil {
			return nil, fmt.Errorf("finding due enrollments: %w", err)
		}
		list = append(list, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("finding due enrollments: %w", err)
	}
	return list, nil
}

// dueTimedSteps lists due active enrollments of running campaigns that sit
// at a wait or a condition (at most limit): they advance at their own due
// time, whatever the account's pacing (docs/sending.md#pacing).
func (e *Engine) dueTimedSteps(ctx context.Context, now time.Time, limit int) ([]dueEnrollment, error) {
	rows, err := e.opts.DB.SQL.QueryContext(ctx, `SELECT id, steps FROM campaigns WHERE status = 'running'`)
	if err != nil {
		return nil, fmt.Errorf("reading running campaigns: %w", err)
	}
	var pairs [][2]string
	for rows.Next() {
		var id, raw string
		if err := rows.Scan(&id, &raw); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading running campaigns: %w", err)
		}
		var steps []campaign.Step
		if err := json.Unmarshal([]byte(raw), &steps); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading steps of campaign %s: %w", id, err)
		}
		for _, st := range steps {
			if _, action := policy.StepAction(st.Type); !action {
				pairs = append(pairs, [2]string{id, st.ID})
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading running campaigns: %w", err)
	}
	var list []dueEnrollment
	const chunk = 400 // two parameters each; well under either engine's limit
	for from := 0; from < len(pairs) && len(list) < limit; from += chunk {
		part := pairs[from:min(from+chunk, len(pairs))]
		args := []any{now, limit - len(list)}
		ph := make([]string, len(part))
		for i, pr := range part {
			args = append(args, pr[0], pr[1])
			ph[i] = fmt.Sprintf("($%d, $%d)", len(args)-1, len(args))
		}
		got, err := e.dueIDs(ctx, `SELECT id, account_id FROM enrollments WHERE state = 'active' AND next_action_at <= $1
			AND (campaign_id, step_id) IN (VALUES `+strings.Join(ph, ", ")+`) ORDER BY next_action_at, id LIMIT $2`, args...)
		if err != nil {
			return nil, err
		}
		list = append(list, got...)
	}
	return list, nil
}

// dueIDs runs a query listing enrollments and their accounts.
func (e *Engine) dueIDs(ctx context.Context, query string, args ...any) ([]dueEnrollment, error) {
	rows, err := e.opts.DB.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("finding due waits and conditions: %w", err)
	}
	defer rows.Close()
	var list []dueEnrollment
	for rows.Next() {
		var d dueEnrollment
		if err := rows.Scan(&d.id, &d.account); err != nil {
			return nil, fmt.Errorf("finding due waits and conditions: %w", err)
		}
		list = append(list, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("finding due waits and conditions: %w", err)
	}
	return list, nil
}

// pacing reads every account's next allowed action time.
func (e *Engine) pacing(ctx context.Context) (map[string]time.Time, error) {
	rows, err := e.opts.DB.SQL.QueryContext(ctx, `SELECT account_id, next_allowed_at FROM account_pacing`)
	if err != nil {
		return nil, fmt.Errorf("reading pacing: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var t time.Time
		if err := rows.Scan(&id, &t); err != nil {
			return nil, fmt.Errorf("reading pacing: %w", err)
		}
		out[id] = t.UTC()
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading pacing: %w", err)
	}
	return out, nil
}

// spreadColumn is the account_pacing column holding an action's spread.
func spreadColumn(a policy.Action) string {
	switch a {
	case policy.ActionInvite:
		return "spread_invite_until"
	case policy.ActionMessage:
		return "spread_message_until"
	case policy.ActionInMail:
		return "spread_inmail_until"
	case policy.ActionWithdraw:
		return "spread_withdraw_until"
	}
	return "spread_view_profile_until"
}

// pacingRow is an account's pacing as a snapshot needs it: the spacing
// every action keeps and the spread of one action.
type pacingRow struct {
	nextAllowed, spreadUntil time.Time
}

// lockPacing creates an account's pacing row if needed and locks it,
// returning its spacing and the spread of action: one statement, since DO
// UPDATE takes the row lock.
func lockPacing(ctx context.Context, tx *sql.Tx, accountID string, action policy.Action, now time.Time) (pacingRow, error) {
	var (
		p      pacingRow
		spread db.NullTime
	)
	if err := tx.QueryRowContext(ctx, `INSERT INTO account_pacing (account_id, next_allowed_at) VALUES ($1, $2)
		ON CONFLICT (account_id) DO UPDATE SET account_id = excluded.account_id RETURNING next_allowed_at, `+spreadColumn(action),
		accountID, now).Scan(&p.nextAllowed, &spread); err != nil {
		return p, fmt.Errorf("locking account pacing: %w", err)
	}
	p.nextAllowed, p.spreadUntil = p.nextAllowed.UTC(), spread.Time
	return p, nil
}

// lockDue locks a due enrollment and reads, in the same round trip, its
// campaign, its account and the live send of its current step (the unique
// index sends_one_per_step_uidx serves that lookup). It returns nil when
// the enrollment is no longer active. The enrollment row is read (and
// locked) here rather than through the campaign package because the claim
// needs all four in one round trip; it is only read here, never written.
func (e *Engine) lockDue(ctx context.Context, tx *sql.Tx, enrollmentID string) (*enrollmentRow, campaign.Campaign, error) {
	var (
		r     enrollmentRow
		cs    campaignScan
		state string
		step  sql.NullString
		next  sql.NullTime
	)
	dest := append([]any{&r.id, &r.workspaceID, &r.campaignID, &r.prospectID, &r.accountID, &state, &step, &next,
		&r.acceptedAt, &r.repliedAt, &r.failures}, cs.dest()...)
	acc, err := account.ScanWith(tx.QueryRowContext(ctx, e.lockDueSQL, enrollmentID), append(dest, &r.existingSend)...)
	if err != nil {
		return nil, cs.c, fmt.Errorf("locking enrollment %s: %w", enrollmentID, err)
	}
	if state != string(campaign.EnrollmentActive) || !next.Valid {
		return nil, cs.c, nil
	}
	c, err := cs.campaign()
	if err != nil {
		return nil, c, err
	}
	r.stepID, r.nextActionAt, r.account = step.String, next.Time.UTC(), acc
	return &r, c, nil
}

// lockDueQuery is lockDue's query for a database: the enrollment (locked
// where the engine has row locks) with its account, its campaign and the
// live send of its current step.
func lockDueQuery(d *db.DB) string {
	return `SELECT ` + accountColumns + `,
		en.id, en.workspace_id, en.campaign_id, en.prospect_id, en.account_id, en.state, en.step_id,
		en.next_action_at, en.accepted_at, en.replied_at, en.failures, ` + campaignColumns + `,
		(SELECT s.state FROM sends s WHERE s.campaign_id = en.campaign_id AND s.step_id = en.step_id AND s.prospect_id = en.prospect_id
		    AND s.action <> 'withdraw' AND s.state NOT IN ('failed', 'cancelled') LIMIT 1)
		FROM enrollments en JOIN campaigns c ON c.id = en.campaign_id JOIN linkedin_accounts a ON a.id = en.account_id
		WHERE en.id = $1` + d.LockForUpdateOf("en")
}

// readCampaign reads what sending needs of a campaign (not its senders).
func (e *Engine) readCampaign(ctx context.Context, tx *sql.Tx, campaignID string) (campaign.Campaign, error) {
	var cs campaignScan
	if err := tx.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns c WHERE c.id = $1`, campaignID).Scan(cs.dest()...); err != nil {
		return cs.c, fmt.Errorf("reading campaign %s: %w", campaignID, err)
	}
	return cs.campaign()
}

// SnapshotRequest names what a snapshot is read for.
type SnapshotRequest struct {
	Account account.Account
	// Campaign is the campaign whose share applies; nil for none.
	Campaign *campaign.Campaign
	Action   policy.Action
	// WithNote is an invitation with a note.
	WithNote bool
	// Pacing is the account's resolved pacing (policy.ForAccount).
	Pacing policy.Pacing
	Now    time.Time
	// ProspectID is the claim's prospect, whose do-not-contact listing is
	// read; empty for none (the diagnosis).
	ProspectID string
}

// ReadSnapshot reads the decision's snapshot without locks (the diagnosis):
// the same reads as the claim's, with the pacing row read plainly.
func ReadSnapshot(ctx context.Context, q db.Querier, r SnapshotRequest) (policy.Snapshot, error) {
	var next, spread db.NullTime
	err := q.QueryRowContext(ctx, `SELECT next_allowed_at, `+spreadColumn(r.Action)+` FROM account_pacing WHERE account_id = $1`,
		r.Account.ID).Scan(&next, &spread)
	if err != nil && !db.IsNoRows(err) {
		return policy.Snapshot{}, fmt.Errorf("reading pacing of account %s: %w", r.Account.ID, err)
	}
	p := pacingRow{nextAllowed: r.Now, spreadUntil: spread.Time} // a missing row is created at now by the first claim
	if next.Valid {
		p.nextAllowed = next.Time.UTC()
	}
	return readSnapshot(ctx, q, r, p)
}

// readSnapshot reads what the decision needs from the ledger, the blocks
// and the burst guard; the caller has read the pacing row (the claim,
// under its lock).
func readSnapshot(ctx context.Context, q db.Querier, r SnapshotRequest, p pacingRow) (policy.Snapshot, error) {
	s := policy.Snapshot{Account: r.Account, Action: r.Action, WithNote: r.WithNote, NextAllowed: p.nextAllowed,
		SpreadUntil: p.spreadUntil, Pacing: r.Pacing}
	campaignID := ""
	if r.Campaign != nil {
		campaignID = r.Campaign.ID
	}
	var (
		kind     sql.NullString
		until    db.NullTime
		share    int
		incident db.NullTime
		listed   sql.NullBool
		person   sql.NullString
	)
	day := policy.UTCDayStart(r.Now)
	err := q.QueryRowContext(ctx, `SELECT
		COUNT(*),
		COALESCE(SUM(CASE WHEN campaign_id = $4 THEN 1 ELSE 0 END), 0),
		(SELECT kind FROM send_blocks b WHERE b.account_id = $1 AND b.action = $8 AND b.until > $5 ORDER BY b.until DESC LIMIT 1),
		(SELECT until FROM send_blocks b WHERE b.account_id = $1 AND b.action = $8 AND b.until > $5 ORDER BY b.until DESC LIMIT 1),
		`+health.IncidentReopenSQL+`,
		(SELECT `+campaign.ListedSQL("p")+` FROM prospects p WHERE p.id = $6),
		(SELECT COALESCE(p.linkedin_url, p.sales_nav_id, p.provider_id, p.id) FROM prospects p WHERE p.id = $6)
		FROM sends WHERE account_id = $1 AND action IN ($2, $7) AND claimed_at >= $3 AND state IN `+CountedStates,
		r.Account.ID, string(r.Action), day, campaignID, r.Now, r.ProspectID, string(alsoCounted(r.Action)), string(blockedAs(r.Action))).Scan(&s.UsedToday, &share, &kind, &until, &incident, &listed, &person)
	if err != nil {
		return s, fmt.Errorf("counting %s sends of account %s: %w", r.Action, r.Account.ID, err)
	}
	s.IncidentUntil = health.IncidentFrom(incident, r.Now)
	s.Listed, s.Person = listed.Valid && listed.Bool, person.String
	if until.Valid {
		s.Block = &policy.Block{Kind: kind.String, Until: until.Time.UTC()}
	}
	if r.Campaign != nil {
		s.Share = &policy.Share{Cap: policy.ShareCap(*r.Campaign, r.Action), Used: share}
	}
	if r.Action == policy.ActionInvite {
		if s.Pending, s.PendingFrees, err = pendingOf(ctx, q, r.Account.ID); err != nil {
			return s, err
		}
		if r.ProspectID != "" {
			if s.WithdrawnUntil, err = withdrawnUntil(ctx, q, r.ProspectID); err != nil {
				return s, err
			}
		}
		if s.Week, err = claimTimes(ctx, q, r.Account.ID, r.Action, r.Now.Add(-7*24*time.Hour), false); err != nil {
			return s, err
		}
		if r.WithNote && r.Account.Tier == account.TierFree {
			if s.Notes, err = claimTimes(ctx, q, r.Account.ID, r.Action, r.Now.Add(-30*24*time.Hour), true); err != nil {
				return s, err
			}
		}
	}
	return s, nil
}

// alsoCounted is the other ledger action that uses up an action's cap:
// replies typed in the inbox count as messages (docs/inbox.md#replying).
func alsoCounted(a policy.Action) policy.Action {
	if a == policy.ActionMessage {
		return policy.ActionReply
	}
	return a
}

// blockedAs is the action whose cooldowns hold an action: a reply is held
// by the account's message cooldown.
func blockedAs(a policy.Action) policy.Action {
	if a == policy.ActionReply {
		return policy.ActionMessage
	}
	return a
}

// claimSQL is the claim's one statement where the engine has writable
// CTEs: the ledger row, the account's pacing and the enrollment's next
// look, which is campaign.DeferStatement (the campaign package spells
// every enrollment write, this one included).
var claimSQL = `
	WITH ledger AS (
		INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id,
			step_id, action, state, with_note, claimed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'intent', $9, $10)),
	pacing AS (
		UPDATE account_pacing SET next_allowed_at = $11, ` + setSpread("$8", "$13") + ` WHERE account_id = $3)
	` + campaign.DeferStatement(5, 12, 10)

// setSpread sets the spread of the action named by parameter action to
// parameter until, leaving the other actions' spreads as they are.
func setSpread(action, until string) string {
	var sets []string
	for _, a := range policy.Actions {
		col := spreadColumn(a)
		sets = append(sets, fmt.Sprintf("%s = CASE WHEN %s = '%s' THEN %s ELSE %s END", col, action, a, until, col))
	}
	return strings.Join(sets, ", ")
}

// claim writes a claim. Where the engine has writable CTEs the three
// writes are one statement, a round trip instead of three on the hottest
// path of a pass.
func (e *Engine) claim(ctx context.Context, tx *sql.Tx, w claimWrite) error {
	en := w.en
	if e.opts.DB.HasWritableCTEs() {
		_, err := tx.ExecContext(ctx, claimSQL,
			w.sendID, en.workspaceID, en.accountID, en.campaignID, en.id, en.prospectID, en.stepID, string(w.action), w.withNote, w.now,
			w.nextAllowed, w.recheck, nullTime(w.spreadUntil))
		if err != nil && !db.IsUniqueViolation(err) {
			err = fmt.Errorf("claiming %s for enrollment %s: %w", w.action, en.id, err)
		}
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id,
		step_id, action, state, with_note, claimed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'intent', $9, $10)`,
		w.sendID, en.workspaceID, en.accountID, en.campaignID, en.id, en.prospectID, en.stepID, string(w.action), w.withNote, w.now)
	if db.IsUniqueViolation(err) {
		return err
	}
	if err != nil {
		return fmt.Errorf("claiming %s for enrollment %s: %w", w.action, en.id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE account_pacing SET next_allowed_at = $2, `+setSpread("$3", "$4")+` WHERE account_id = $1`,
		en.accountID, w.nextAllowed, string(w.action), nullTime(w.spreadUntil)); err != nil {
		return fmt.Errorf("pacing account %s: %w", en.accountID, err)
	}
	return e.opts.Campaigns.Defer(ctx, tx, en.id, w.recheck, w.now)
}

// nullTime is t, or NULL when zero.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// --- dispatch and reconcile ---

func (e *Engine) lockSend(ctx context.Context, tx *sql.Tx, sendID string) (sendRow, error) {
	var r sendRow
	var chat sql.NullString
	var dispatched db.NullTime
	err := tx.QueryRowContext(ctx, `SELECT id, workspace_id, account_id, COALESCE(campaign_id, ''), COALESCE(enrollment_id, ''),
		COALESCE(prospect_id, ''), COALESCE(step_id, ''), action, state, claimed_at, dispatched_at, chat_id, COALESCE(conversation_id, ''),
		COALESCE(reply_text, '')
		FROM sends WHERE id = $1`+e.opts.DB.LockForUpdate(), sendID).
		Scan(&r.id, &r.workspaceID, &r.accountID, &r.campaignID, &r.enrollmentID, &r.prospectID, &r.stepID, &r.action, &r.state, &r.claimedAt,
			&dispatched, &chat, &r.conversationID, &r.replyText)
	if err != nil {
		return r, fmt.Errorf("locking send %s: %w", sendID, err)
	}
	r.chatID, r.dispatchedAt = chat.String, dispatched.Time
	return r, nil
}

// shareLockAccount reads the sending account under a share lock, so a
// concurrent status flip waits for the dispatch's check to commit.
func (e *Engine) shareLockAccount(ctx context.Context, tx *sql.Tx, accountID string) (account.Account, error) {
	acc, err := account.ScanWith(tx.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM linkedin_accounts a WHERE a.id = $1`+e.opts.DB.LockShare(), accountID))
	if err != nil {
		return acc, fmt.Errorf("rechecking account %s: %w", accountID, err)
	}
	return acc, nil
}

// markUnknown records that a send's outcome is not known (kind, when
// given, classifies the error); it is reconciled, never resent.
func markUnknown(ctx context.Context, tx *sql.Tx, sendID string, kind, msg string) error {
	var err error
	if kind == "" {
		_, err = tx.ExecContext(ctx, `UPDATE sends SET state = 'unknown', error = $2 WHERE id = $1`, sendID, msg)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE sends SET state = 'unknown', error_kind = $2, error = $3 WHERE id = $1`, sendID, kind, msg)
	}
	if err != nil {
		return fmt.Errorf("marking send %s unknown: %w", sendID, err)
	}
	return nil
}

// cancelSend records that a claimed send was not sent, and why (kind,
// when given, classifies it, e.g. a provider incident).
func cancelSend(ctx context.Context, tx *sql.Tx, sendID, kind, reason string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE sends SET state = 'cancelled', error_kind = $4, error = $2, finished_at = $3 WHERE id = $1`,
		sendID, reason, now, db.NullIfEmpty(kind)); err != nil {
		return fmt.Errorf("cancelling send %s: %w", sendID, err)
	}
	return nil
}

// markDispatched records that the provider call is about to be made.
func markDispatched(ctx context.Context, tx *sql.Tx, sendID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE sends SET state = 'dispatched', dispatched_at = $2 WHERE id = $1`, sendID, now); err != nil {
		return fmt.Errorf("marking send %s dispatched: %w", sendID, err)
	}
	return nil
}

// failSend records a provider failure of a send.
func failSend(ctx context.Context, tx *sql.Tx, sendID, kind, msg string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE sends SET state = 'failed', error_kind = $2, error = $3, finished_at = $4 WHERE id = $1`,
		sendID, kind, msg, now); err != nil {
		return fmt.Errorf("recording failure of send %s: %w", sendID, err)
	}
	return nil
}

// confirmSend records a delivered send (chatID may be empty: NULL).
func confirmSend(ctx context.Context, tx *sql.Tx, sendID, ref, chatID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE sends SET state = 'confirmed', provider_ref = $2, chat_id = $3, finished_at = $4,
		parked_at = NULL WHERE id = $1`, sendID, ref, db.NullIfEmpty(chatID), now); err != nil {
		return fmt.Errorf("confirming send %s: %w", sendID, err)
	}
	return nil
}

// sendOutcome reads a send's state and error kind, for its log line.
func sendOutcome(ctx context.Context, q db.Querier, sendID string) (State, string, error) {
	var st State
	var kind string
	if err := q.QueryRowContext(ctx, `SELECT state, COALESCE(error_kind, '') FROM sends WHERE id = $1`, sendID).Scan(&st, &kind); err != nil {
		return "", "", fmt.Errorf("reading the outcome of send %s: %w", sendID, err)
	}
	return st, kind, nil
}

// parkSend parks an unknown send for a person; it reports whether it was
// not parked already.
func parkSend(ctx context.Context, tx *sql.Tx, sendID string, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE sends SET parked_at = $2 WHERE id = $1 AND parked_at IS NULL`, sendID, now)
	if err != nil {
		return false, fmt.Errorf("parking send %s: %w", sendID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// recipientKinds are the failures that say something about the recipient
// (unipile's classification): the only ones that use a prospect's tries
// and count toward a campaign's failure rate (docs/sending.md#incidents).
const recipientKinds = `('permanent_recipient', 'already_done')`

// recentOutcomes counts a campaign's last FailureRateWindow finished
// sends and how many of them failed, counting only failures about the
// recipient: incidents, limits, credits and the account's state say
// nothing about the campaign.
func recentOutcomes(ctx context.Context, tx *sql.Tx, campaignID string) (total, failed int, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT state FROM sends WHERE campaign_id = $1 AND action <> 'withdraw'
		AND (state = 'confirmed' OR (state = 'failed' AND error_kind IN `+recipientKinds+`))
		ORDER BY finished_at DESC LIMIT $2`, campaignID, FailureRateWindow)
	if err != nil {
		return 0, 0, fmt.Errorf("reading recent outcomes of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return 0, 0, fmt.Errorf("reading recent outcomes of campaign %s: %w", campaignID, err)
		}
		total++
		if s == string(StateFailed) {
			failed++
		}
	}
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("reading recent outcomes of campaign %s: %w", campaignID, err)
	}
	return total, failed, nil
}

// incidentsOf counts the incidents (failed or cancelled sends not about
// the recipient) that deferred an enrollment's step, for its backoff.
func incidentsOf(ctx context.Context, tx *sql.Tx, enrollmentID, stepID string) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sends WHERE enrollment_id = $1 AND step_id = $2
		AND state IN ('failed', 'cancelled') AND error_kind IS NOT NULL AND error_kind NOT IN `+recipientKinds,
		enrollmentID, stepID).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting incidents of enrollment %s: %w", enrollmentID, err)
	}
	return n, nil
}

// unsettledSends lists sends whose outcome is unknown, or that a crash left
// dispatched, and that are not parked, oldest claim first. A send
// dispatched at or after inCallSince may still be in its call in a live
// process: it is not listed.
func (e *Engine) unsettledSends(ctx context.Context, inCallSince time.Time) ([]string, error) {
	return e.sendIDs(ctx, "listing unknown sends",
		`SELECT id FROM sends WHERE parked_at IS NULL
			AND (state = 'unknown' OR (state = 'dispatched' AND dispatched_at < $1))
		ORDER BY claimed_at LIMIT 100`, inCallSince)
}

// pendingSends lists claimed sends not dispatched yet, oldest first.
func (e *Engine) pendingSends(ctx context.Context) ([]string, error) {
	return e.sendIDs(ctx, "listing pending sends", `SELECT id FROM sends WHERE state = 'intent' ORDER BY claimed_at LIMIT 500`)
}

func (e *Engine) sendIDs(ctx context.Context, what, query string, args ...any) ([]string, error) {
	rows, err := e.opts.DB.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		ids = append(ids, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return ids, nil
}

// --- accepts ---

// pollAccount is a connected account with enrollments still waiting for
// an accept.
type pollAccount struct{ id, ws, provider string }

// accountsToPoll lists the connected accounts with pending invitations:
// an invitation they sent (confirmed) to a prospect whose enrollment has no
// accept recorded and may still act on one (live, or ended by a condition
// for a late accept).
func (e *Engine) accountsToPoll(ctx context.Context) ([]pollAccount, error) {
	rows, err := e.opts.DB.SQL.QueryContext(ctx, `SELECT DISTINCT a.id, a.workspace_id, a.provider_account_id
		FROM linkedin_accounts a JOIN sends s ON s.account_id = a.id JOIN enrollments en ON en.id = s.enrollment_id
		WHERE a.status = 'connected' AND s.action = 'invite' AND s.state = 'confirmed'
		AND en.state IN ('active', 'soft_paused', 'ended') AND en.accepted_at IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("listing accounts to poll: %w", err)
	}
	defer rows.Close()
	var list []pollAccount
	for rows.Next() {
		var a pollAccount
		if err := rows.Scan(&a.id, &a.ws, &a.provider); err != nil {
			return nil, fmt.Errorf("listing accounts to poll: %w", err)
		}
		list = append(list, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing accounts to poll: %w", err)
	}
	return list, nil
}

// inviteNoteChat counts an account's confirmed invitations with a note to
// the workspace's person with member id providerID, and its confirmed
// messages and InMails to them.
func inviteNoteChat(ctx context.Context, tx *sql.Tx, workspaceID, accountID, providerID string) (invited, messaged int, err error) {
	err = tx.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN s.action = 'invite' AND s.with_note = $4 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN s.action IN ('message', 'inmail') THEN 1 ELSE 0 END), 0)
		FROM sends s JOIN prospects p ON p.id = s.prospect_id
		WHERE p.workspace_id = $1 AND (p.provider_id = $2 OR p.member_id = $2) AND s.account_id = $3 AND s.state = 'confirmed'`,
		workspaceID, providerID, accountID, true).Scan(&invited, &messaged)
	if err != nil {
		return 0, 0, fmt.Errorf("checking invite-note chat: %w", err)
	}
	return invited, messaged, nil
}

// CountByActionAndState counts ledger rows by action and state, for the
// metrics collector.
func CountByActionAndState(ctx context.Context, q db.Querier) ([]db.GroupCount, error) {
	out, err := db.QueryGroupCounts(ctx, q, 2, `SELECT action, state, count(*) FROM sends GROUP BY action, state`)
	if err != nil {
		return nil, fmt.Errorf("counting sends: %w", err)
	}
	return out, nil
}

// Responses counts how a campaign's prospects answered so far: those with
// a confirmed invitation and how many of them accepted, those with a
// confirmed message or InMail and how many of them replied (the
// forecast's observed rates).
type Responses struct {
	Invited, Accepted, Messaged, Replied int
}

// CampaignResponses reads a campaign's Responses from the counts kept
// beside its ledger (docs/storage.md#campaign-send-counts).
func CampaignResponses(ctx context.Context, q db.Querier, campaignID string) (Responses, error) {
	var r Responses
	counts, err := campaignSendCounts(ctx, q, campaignID)
	if err != nil {
		return r, err
	}
	for _, c := range counts {
		if c.scope != "campaign" {
			continue
		}
		switch c.measure {
		case "invited":
			r.Invited = c.n
		case "accepted":
			r.Accepted = c.n
		case "messaged":
			r.Messaged = c.n
		case "replied":
			r.Replied = c.n
		}
	}
	return r, nil
}

// clearCreditsSQL deletes an account's InMail credits breaker.
const clearCreditsSQL = `DELETE FROM send_blocks WHERE account_id = $1 AND kind = 'credits'`

// ClearCredits lifts an account's InMail credits breaker and records, in
// inmail_top_ups, who did it (a person, a token or the balance check),
// from which source and when. It reports whether a breaker was held.
func ClearCredits(ctx context.Context, q db.Querier, t TopUp) (bool, error) {
	res, err := q.ExecContext(ctx, clearCreditsSQL, t.AccountID)
	if err != nil {
		return false, fmt.Errorf("clearing the InMail credits breaker of account %s: %w", t.AccountID, err)
	}
	n, _ := res.RowsAffected()
	var balance any
	if t.Balance > 0 {
		balance = t.Balance
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO inmail_top_ups (account_id, cleared_by, source, balance, cleared_at)
		VALUES ($1, $2, $3, $4, $5)`, t.AccountID, t.By, t.Source, balance, t.At); err != nil {
		return false, fmt.Errorf("recording the InMail top-up of account %s: %w", t.AccountID, err)
	}
	return n > 0, nil
}

// CreditBlocked lists the accounts whose InMail credits breaker holds at
// now, in id order: what the daily balance check looks at.
func CreditBlocked(ctx context.Context, q db.Querier, now time.Time) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT b.account_id FROM send_blocks b
		JOIN linkedin_accounts a ON a.id = b.account_id
		WHERE b.kind = 'credits' AND b.until > $1 AND a.status = 'connected' ORDER BY b.account_id`, now)
	if err != nil {
		return nil, fmt.Errorf("listing accounts without InMail credits: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("listing accounts without InMail credits: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// LastTopUp is the latest recorded top-up of an account, nil when none.
func LastTopUp(ctx context.Context, q db.Querier, accountID string) (*TopUp, error) {
	var t TopUp
	var balance sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT account_id, cleared_by, source, balance, cleared_at FROM inmail_top_ups
		WHERE account_id = $1 ORDER BY id DESC LIMIT 1`, accountID).Scan(&t.AccountID, &t.By, &t.Source, &balance, &t.At)
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the last InMail top-up of account %s: %w", accountID, err)
	}
	t.Balance = int(balance.Int64)
	t.At = t.At.UTC()
	return &t, nil
}

// providerAccount reads an account's Unipile id.
func providerAccount(ctx context.Context, q db.Querier, accountID string) (string, error) {
	var id string
	if err := q.QueryRowContext(ctx, `SELECT provider_account_id FROM linkedin_accounts WHERE id = $1`, accountID).Scan(&id); err != nil {
		return "", fmt.Errorf("reading account %s: %w", accountID, err)
	}
	return id, nil
}

// --- replies ---

// claimReply writes a reply's ledger row: its conversation, chat and text.
func claimReply(ctx context.Context, tx *sql.Tx, sendID string, r ReplyRequest, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO sends (id, workspace_id, account_id, prospect_id, action, state, with_note, claimed_at,
		chat_id, conversation_id, reply_text) VALUES ($1, $2, $3, $4, 'reply', 'intent', $5, $6, $7, $8, $9)`,
		sendID, r.WorkspaceID, r.AccountID, db.NullIfEmpty(r.ProspectID), false, now, r.ChatID, r.ConversationID, r.Text); err != nil {
		return fmt.Errorf("claiming a reply in conversation %s: %w", r.ConversationID, err)
	}
	return nil
}

// ConversationReplies lists the replies typed in a conversation, oldest
// first (the inbox shows those not yet echoed back by the provider).
func ConversationReplies(ctx context.Context, q db.Querier, conversationID string) ([]SendInfo, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+sendInfoColumns+` FROM sends WHERE conversation_id = $1 ORDER BY claimed_at, id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("listing replies of conversation %s: %w", conversationID, err)
	}
	defer rows.Close()
	var out []SendInfo
	for rows.Next() {
		s, err := scanSendInfo(rows)
		if err != nil {
			return nil, fmt.Errorf("listing replies of conversation %s: %w", conversationID, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ProspectSends lists a campaign's sends to a prospect, oldest first: the
// steps that led to a conversation.
func ProspectSends(ctx context.Context, q db.Querier, campaignID, prospectID string) ([]SendInfo, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+sendInfoColumns+` FROM sends WHERE campaign_id = $1 AND prospect_id = $2
		AND state IN ('confirmed', 'unknown') ORDER BY claimed_at, id`, campaignID, prospectID)
	if err != nil {
		return nil, fmt.Errorf("listing sends of prospect %s: %w", prospectID, err)
	}
	defer rows.Close()
	var out []SendInfo
	for rows.Next() {
		s, err := scanSendInfo(rows)
		if err != nil {
			return nil, fmt.Errorf("listing sends of prospect %s: %w", prospectID, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// allActions is every action a send may have (sends_action_chk), as an SQL
// list.
var allActions = func() string {
	var quoted []string
	for _, a := range append(slices.Clone(policy.Actions), policy.ActionReply) {
		quoted = append(quoted, "'"+string(a)+"'")
	}
	return "(" + strings.Join(quoted, ", ") + ")"
}()
