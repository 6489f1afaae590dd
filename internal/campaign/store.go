package campaign

// The campaign package's door to SQL: this file holds campaigns, their
// senders and prospects (and setSenders' moves of a removed sender's
// enrollments); store_enrollments.go the enrollment state writes the
// sender and the lifecycle make; store_import.go the batched import.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/text"
)

const campaignColumns = `id, workspace_id, name, status, paused_reason, steps, cap_invite, cap_message,
	cap_inmail, cap_view_profile, stop_on_reply, late_accept_policy, created_at, updated_at, updated_by`

func scanCampaign(row scanner) (Campaign, error) {
	var (
		c      Campaign
		reason sql.NullString
		by     sql.NullString
		steps  string
	)
	if err := row.Scan(&c.ID, &c.WorkspaceID, &c.Name, &c.Status, &reason, &steps,
		&c.DailyCaps.Invite, &c.DailyCaps.Message, &c.DailyCaps.InMail, &c.DailyCaps.ViewProfile,
		&c.StopOnReply, &c.LateAcceptPolicy, &c.CreatedAt, &c.UpdatedAt, &by); err != nil {
		return Campaign{}, err
	}
	c.UpdatedBy = by.String
	c.PausedReason = PausedReason(reason.String)
	if err := json.Unmarshal([]byte(steps), &c.Steps); err != nil {
		return Campaign{}, fmt.Errorf("decoding steps of campaign %s: %w", c.ID, err)
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

// placeholders returns "$from, $from+1, …" for n arguments.
func placeholders(from, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("$%d", from+i)
	}
	return strings.Join(parts, ", ")
}

// read reads one campaign row (without senders), locking it when lock is
// set (PostgreSQL; SQLite's immediate transaction already serialises).
func (s *Service) read(ctx context.Context, q db.Querier, workspaceID, campaignID string, lock bool) (Campaign, error) {
	if !text.Valid(campaignID) {
		// No id holds control characters; PostgreSQL would error on a NUL.
		return Campaign{}, ErrNotFound
	}
	query := `SELECT ` + campaignColumns + ` FROM campaigns WHERE id = $1`
	args := []any{campaignID}
	if workspaceID != "" {
		query += ` AND workspace_id = $2`
		args = append(args, workspaceID)
	}
	if lock {
		query += s.db.LockForUpdate()
	}
	c, err := scanCampaign(q.QueryRowContext(ctx, query, args...))
	if db.IsNoRows(err) {
		return Campaign{}, ErrNotFound
	}
	if err != nil {
		return Campaign{}, fmt.Errorf("reading campaign %s: %w", campaignID, err)
	}
	return c, nil
}

// loadSenders fills AccountIDs (current senders, in order) of each campaign.
func (s *Service) loadSenders(ctx context.Context, q db.Querier, cs []*Campaign) error {
	if len(cs) == 0 {
		return nil
	}
	args := make([]any, len(cs))
	byID := map[string]*Campaign{}
	for i, c := range cs {
		args[i] = c.ID
		byID[c.ID] = c
		c.AccountIDs = []string{}
	}
	rows, err := q.QueryContext(ctx, `
		SELECT campaign_id, account_id FROM campaign_accounts
		 WHERE campaign_id IN (`+placeholders(1, len(args))+`) AND removed_at IS NULL
		 ORDER BY campaign_id, position, account_id`, args...)
	if err != nil {
		return fmt.Errorf("reading campaign senders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid, aid string
		if err := rows.Scan(&cid, &aid); err != nil {
			return fmt.Errorf("reading campaign senders: %w", err)
		}
		byID[cid].AccountIDs = append(byID[cid].AccountIDs, aid)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading campaign senders: %w", err)
	}
	return nil
}

// List returns campaigns ordered by id.
func (s *Service) List(ctx context.Context, q db.Querier, opts ListOptions) ([]Campaign, error) {
	query := `SELECT ` + campaignColumns + ` FROM campaigns WHERE id > $1`
	args := []any{opts.After}
	if opts.WorkspaceID != "" {
		args = append(args, opts.WorkspaceID)
		query += fmt.Sprintf(` AND workspace_id = $%d`, len(args))
	}
	if opts.Status != "" {
		args = append(args, string(opts.Status))
		query += fmt.Sprintf(` AND status = $%d`, len(args))
	}
	query += ` ORDER BY id`
	if opts.Limit > 0 {
		args = append(args, opts.Limit)
		query += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing campaigns: %w", err)
	}
	var out []Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing campaigns: %w", err)
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing campaigns: %w", err)
	}
	ptrs := make([]*Campaign, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	if err := s.loadSenders(ctx, q, ptrs); err != nil {
		return nil, err
	}
	return out, nil
}

// accountsInWorkspace returns which of ids are accounts of the workspace.
func (s *Service) accountsInWorkspace(ctx context.Context, q db.Querier, workspaceID string, ids []string) (map[string]bool, error) {
	if len(ids) == 0 {
		return map[string]bool{}, nil
	}
	args := []any{workspaceID}
	for _, a := range ids {
		args = append(args, a)
	}
	rows, err := q.QueryContext(ctx, `SELECT id FROM linkedin_accounts WHERE workspace_id = $1 AND id IN (`+
		placeholders(2, len(ids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("checking sender accounts: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("checking sender accounts: %w", err)
		}
		out[a] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checking sender accounts: %w", err)
	}
	return out, nil
}

// shareLockAccounts takes, on PostgreSQL, the key-share locks that adding
// these accounts as senders would take anyway (foreign-key checks), but
// before the campaign row is locked. A status flip locks its account and
// then the campaigns it sends for; taking the locks in the same order here
// keeps an edit and a flip from deadlocking.
func (s *Service) shareLockAccounts(ctx context.Context, tx *sql.Tx, workspaceID string, ids []string) error {
	if !s.db.HasRowLocks() || len(ids) == 0 {
		return nil
	}
	args := []any{workspaceID}
	for _, a := range ids {
		// Not clean text, not an account: validation reports it later.
		if text.Valid(a) {
			args = append(args, a)
		}
	}
	if len(args) == 1 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM linkedin_accounts WHERE workspace_id = $1 AND id IN (`+
		placeholders(2, len(args)-1)+`) ORDER BY id`+s.db.LockKeyShare(), args...)
	if err != nil {
		return fmt.Errorf("locking sender accounts: %w", err)
	}
	rows.Close()
	return rows.Err()
}

// checkLiveSteps refuses a new step graph that drops a step prospects
// are at.
func (s *Service) checkLiveSteps(ctx context.Context, tx *sql.Tx, c Campaign) ([]FieldError, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT step_id, count(*) FROM enrollments
		 WHERE campaign_id = $1 AND state IN ('active', 'soft_paused')
		 GROUP BY step_id ORDER BY step_id`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("reading enrollment steps of campaign %s: %w", c.ID, err)
	}
	defer rows.Close()
	var errs []FieldError
	for rows.Next() {
		var step string
		var n int
		if err := rows.Scan(&step, &n); err != nil {
			return nil, fmt.Errorf("reading enrollment steps of campaign %s: %w", c.ID, err)
		}
		if _, ok := StepByID(c.Steps, step); !ok {
			errs = append(errs, FieldError{Field: "steps", Message: fmt.Sprintf(
				"step %s cannot be removed: %d prospect(s) are at it", step, n)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading enrollment steps of campaign %s: %w", c.ID, err)
	}
	return errs, nil
}

// MaxVariableScan bounds how many of a campaign's prospects
// CampaignVariables reads for their custom columns.
const MaxVariableScan = 2000

// CampaignVariables lists the template variables a campaign can use: the
// built-in ones, then the custom columns seen in its prospects (of the
// first MaxVariableScan), sorted (docs/campaigns.md#variables-and-fallbacks).
func (s *Service) CampaignVariables(ctx context.Context, q db.Querier, campaignID string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT p.custom_fields FROM enrollments e JOIN prospects p ON p.id = e.prospect_id
		WHERE e.campaign_id = $1 ORDER BY e.id LIMIT $2`, campaignID, MaxVariableScan)
	if err != nil {
		return nil, fmt.Errorf("reading custom columns of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var custom []string
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("reading custom columns of campaign %s: %w", campaignID, err)
		}
		var m map[string]string
		if json.Unmarshal([]byte(raw), &m) != nil {
			continue
		}
		for k := range m {
			if !seen[k] && !IsBuiltinVariable(k) {
				seen[k] = true
				custom = append(custom, k)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading custom columns of campaign %s: %w", campaignID, err)
	}
	sort.Strings(custom)
	return append(append([]string{}, BuiltinVariables...), custom...), nil
}

// PreviewProspects returns up to limit prospects of the campaign for the
// template preview: held ones first (docs/campaigns.md#holds), then in
// enrollment order.
func (s *Service) PreviewProspects(ctx context.Context, q db.Querier, campaignID string, limit int) ([]Prospect, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+prefixed("p.", prospectColumns)+` FROM enrollments e JOIN prospects p ON p.id = e.prospect_id
		WHERE e.campaign_id = $1 ORDER BY CASE WHEN e.parked_by = $3 THEN 0 ELSE 1 END, e.id LIMIT $2`, campaignID, limit, HoldCode)
	if err != nil {
		return nil, fmt.Errorf("reading prospects of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	var out []Prospect
	for rows.Next() {
		p, err := scanProspect(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// prefixed qualifies every column of a comma-separated list.
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = alias + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// HeldExample is the hold sentence of the campaign's first held prospect
// ("" when none is held), for the diagnosis (docs/campaigns.md#holds).
func (s *Service) HeldExample(ctx context.Context, q db.Querier, campaignID string) (string, error) {
	var reason sql.NullString
	err := q.QueryRowContext(ctx, `SELECT last_error FROM enrollments WHERE campaign_id = $1 AND parked_by = $2 AND state = 'active'
		ORDER BY id LIMIT 1`, campaignID, HoldCode).Scan(&reason)
	if err != nil && err != sql.ErrNoRows {
		return "", fmt.Errorf("reading a held prospect of campaign %s: %w", campaignID, err)
	}
	return reason.String, nil
}

// reachedSteps lists the steps prospects of the campaign are at or ended
// at (every enrollment past pending).
func (s *Service) reachedSteps(ctx context.Context, tx *sql.Tx, campaignID string) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT step_id FROM enrollments
		WHERE campaign_id = $1 AND state <> 'pending' AND step_id IS NOT NULL`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("reading reached steps of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var st string
		if err := rows.Scan(&st); err != nil {
			return nil, fmt.Errorf("reading reached steps of campaign %s: %w", campaignID, err)
		}
		out[st] = true
	}
	return out, rows.Err()
}

func (s *Service) enrollmentIDs(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM enrollments WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing enrollments: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var eid string
		if err := rows.Scan(&eid); err != nil {
			return nil, fmt.Errorf("listing enrollments: %w", err)
		}
		out = append(out, eid)
	}
	return out, rows.Err()
}

// senderLoads counts the enrollments each current sender has in the
// campaign (every state: what a sender already worked on is load too).
func (s *Service) senderLoads(ctx context.Context, tx *sql.Tx, campaignID string, senders []string) (map[string]int, error) {
	loads := map[string]int{}
	for _, a := range senders {
		loads[a] = 0
	}
	rows, err := tx.QueryContext(ctx, `SELECT account_id, count(*) FROM enrollments WHERE campaign_id = $1 GROUP BY account_id`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("counting sender loads of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		var n int
		if err := rows.Scan(&a, &n); err != nil {
			return nil, fmt.Errorf("counting sender loads of campaign %s: %w", campaignID, err)
		}
		if _, current := loads[a]; current {
			loads[a] = n
		}
	}
	return loads, rows.Err()
}

// someProspectHas reports whether any prospect enrolled in the campaign
// has the custom field.
func (s *Service) someProspectHas(ctx context.Context, tx *sql.Tx, campaignID, field string) (bool, error) {
	var ok bool
	err := tx.QueryRowContext(ctx, `
		SELECT EXISTS (SELECT 1 FROM enrollments e JOIN prospects p ON p.id = e.prospect_id
		                WHERE e.campaign_id = $1 AND `+s.db.JSONFieldIsSet("p.custom_fields", 2)+`)`,
		campaignID, s.db.JSONFieldArg(field)).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("checking custom field %s in campaign %s: %w", field, campaignID, err)
	}
	return ok, nil
}

// unknownSendColumn is the enrollment's send of its current step whose
// outcome is unknown, if any (read from the sender's ledger, for display).
const unknownSendColumn = `(SELECT MIN(s.id) FROM sends s WHERE s.enrollment_id = e.id AND s.step_id = e.step_id AND s.state = 'unknown')`

// ListEnrollments returns a campaign's enrollments ordered by id (roughly
// import order: ids are time-ordered to the millisecond). The campaign must belong to workspaceID (unless it is empty),
// else ErrNotFound.
func (s *Service) ListEnrollments(ctx context.Context, q db.Querier, workspaceID, campaignID string, opts EnrollmentListOptions) ([]Enrollment, error) {
	if _, err := s.read(ctx, q, workspaceID, campaignID, false); err != nil {
		return nil, err
	}
	query := `SELECT ` + enrollmentColumns + `, ` + unknownSendColumn + ` FROM enrollments e JOIN prospects p ON p.id = e.prospect_id
		WHERE e.campaign_id = $1 AND e.id > $2`
	args := []any{campaignID, opts.After}
	if opts.State != "" {
		args = append(args, string(opts.State))
		query += fmt.Sprintf(` AND e.state = $%d`, len(args))
	}
	query += ` ORDER BY e.id`
	if opts.Limit > 0 {
		args = append(args, opts.Limit)
		query += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing enrollments of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	var out []Enrollment
	for rows.Next() {
		e, err := scanEnrollment(rows)
		if err != nil {
			return nil, fmt.Errorf("listing enrollments of campaign %s: %w", campaignID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// GetProspect reads one prospect by id (any workspace: for workers that
// render templates).
func (s *Service) GetProspect(ctx context.Context, q db.Querier, prospectID string) (Prospect, error) {
	p, err := scanProspect(q.QueryRowContext(ctx, `SELECT `+prospectColumns+` FROM prospects WHERE id = $1`, prospectID))
	if db.IsNoRows(err) {
		return Prospect{}, fmt.Errorf("prospect %s: %w", prospectID, ErrNotFound)
	}
	if err != nil {
		return Prospect{}, fmt.Errorf("reading prospect %s: %w", prospectID, err)
	}
	return p, nil
}

// senders reads the current senders of a campaign with their statuses.
func (s *Service) senders(ctx context.Context, tx *sql.Tx, campaignID string) ([]sender, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT a.id, a.workspace_id, a.status, a.last_error, a.tier, a.name
		  FROM campaign_accounts ca JOIN linkedin_accounts a ON a.id = ca.account_id
		 WHERE ca.campaign_id = $1 AND ca.removed_at IS NULL
		 ORDER BY ca.position, a.id`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("reading senders of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	var out []sender
	for rows.Next() {
		var sd sender
		var lastErr sql.NullString
		if err := rows.Scan(&sd.AccountID, &sd.WorkspaceID, &sd.Status, &lastErr, &sd.Tier, &sd.Name); err != nil {
			return nil, fmt.Errorf("reading senders of campaign %s: %w", campaignID, err)
		}
		sd.LastError = lastErr.String
		out = append(out, sd)
	}
	return out, rows.Err()
}

// PauseTx pauses a running campaign for a reason Keel itself found
// (high_failure_rate, template_error) inside the caller's transaction. It
// reports whether the campaign was running (and is now paused).
func (s *Service) PauseTx(ctx context.Context, tx *sql.Tx, campaignID string, reason PausedReason) (bool, error) {
	if !reason.Valid() {
		return false, fmt.Errorf("pausing campaign %s: unknown reason %q", campaignID, reason)
	}
	res, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'paused', paused_reason = $2, updated_at = $3, updated_by = $4
		WHERE id = $1 AND status = 'running'`, campaignID, string(reason), s.clock.Now(), actorOf(ctx))
	if err != nil {
		return false, fmt.Errorf("pausing campaign %s (%s): %w", campaignID, reason, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// CompleteIfFinished marks a running campaign completed once none of its
// prospects is still in the sequence. It reports whether it did.
func (s *Service) CompleteIfFinished(ctx context.Context, tx *sql.Tx, campaignID string) (bool, error) {
	res, err := tx.ExecContext(ctx, `
		UPDATE campaigns SET status = 'completed', updated_at = $2
		 WHERE id = $1 AND status = 'running'
		   AND EXISTS (SELECT 1 FROM enrollments WHERE campaign_id = $1)
		   AND NOT EXISTS (SELECT 1 FROM enrollments WHERE campaign_id = $1 AND state IN `+liveStates+`)`,
		campaignID, s.clock.Now())
	if err != nil {
		return false, fmt.Errorf("completing campaign %s: %w", campaignID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func accountStatus(ctx context.Context, tx *sql.Tx, accountID string) (account.Status, error) {
	var status account.Status
	if err := tx.QueryRowContext(ctx, `SELECT status FROM linkedin_accounts WHERE id = $1`, accountID).Scan(&status); err != nil {
		return "", fmt.Errorf("reading status of account %s: %w", accountID, err)
	}
	return status, nil
}

// lockSenderCampaigns locks, in id order, the running and paused
// campaigns the account is a current sender of. A fixed order (campaign
// rows before their enrollments, campaigns by id) keeps concurrent flips
// and starts from deadlocking on PostgreSQL.
func (s *Service) lockSenderCampaigns(ctx context.Context, tx *sql.Tx, accountID string) ([]Campaign, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT `+campaignColumns+` FROM campaigns
		 WHERE id IN (SELECT campaign_id FROM campaign_accounts WHERE account_id = $1 AND removed_at IS NULL)
		   AND status IN ('running', 'paused')
		 ORDER BY id`+s.db.LockForUpdate(), accountID)
	if err != nil {
		return nil, fmt.Errorf("locking campaigns of account %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("locking campaigns of account %s: %w", accountID, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// setSenders makes c.AccountIDs the campaign's current senders: new ones
// are added (or re-added), positions follow the list, and senders no
// longer listed are taken off after their live enrollments are handed to
// the remaining senders (not yet contacted) or ended (contacted).
func (s *Service) setSenders(ctx context.Context, tx *sql.Tx, c Campaign, previous []string) error {
	now := s.clock.Now()
	keep := map[string]bool{}
	for i, a := range c.AccountIDs {
		keep[a] = true
		// An upsert: a sender taken off earlier keeps its row, so adding
		// it back clears removed_at.
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO campaign_accounts (campaign_id, account_id, workspace_id, position, added_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (campaign_id, account_id)
			DO UPDATE SET position = excluded.position, removed_at = NULL`,
			c.ID, a, c.WorkspaceID, i, now); err != nil {
			return fmt.Errorf("adding sender %s to campaign %s: %w", a, c.ID, err)
		}
	}
	var removed []string
	for _, a := range previous {
		if !keep[a] {
			removed = append(removed, a)
		}
	}
	if len(removed) == 0 {
		return nil
	}
	// Not-yet-contacted prospects go to the remaining connected senders;
	// when none is connected, to the remaining senders, where they wait
	// soft-paused (docs/campaigns.md#senders).
	targets, err := connectedOf(ctx, tx, c.AccountIDs)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		targets = c.AccountIDs
	}
	loads, err := s.senderLoads(ctx, tx, c.ID, targets)
	if err != nil {
		return err
	}
	for _, a := range removed {
		if _, err := s.handOff(ctx, tx, c.ID, a, targets, loads, now); err != nil {
			return err
		}
		// What is left was contacted by a: its thread is there, so it
		// cannot continue from another account.
		if _, err := tx.ExecContext(ctx, `
			UPDATE enrollments SET state = 'ended', ended_reason = $3, next_action_at = NULL, parked_by = NULL, updated_at = $4
			 WHERE campaign_id = $1 AND account_id = $2 AND state IN ('active', 'soft_paused')`,
			c.ID, a, EndedSenderRemoved, now); err != nil {
			return fmt.Errorf("ending enrollments of removed sender %s: %w", a, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaign_accounts SET removed_at = $3 WHERE campaign_id = $1 AND account_id = $2`,
			c.ID, a, now); err != nil {
			return fmt.Errorf("taking sender %s off campaign %s: %w", a, c.ID, err)
		}
	}
	return nil
}

// insertCampaign stores a new campaign row (steps already encoded).
func insertCampaign(ctx context.Context, tx *sql.Tx, c Campaign, steps string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO campaigns (id, workspace_id, name, status, steps, cap_invite, cap_message, cap_inmail,
			cap_view_profile, stop_on_reply, late_accept_policy, created_at, updated_at, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)`,
		c.ID, c.WorkspaceID, c.Name, string(c.Status), steps, c.DailyCaps.Invite, c.DailyCaps.Message,
		c.DailyCaps.InMail, c.DailyCaps.ViewProfile, c.StopOnReply, string(c.LateAcceptPolicy), now, actorOf(ctx)); err != nil {
		return fmt.Errorf("creating campaign: %w", err)
	}
	return nil
}

// updateCampaign writes a campaign's editable fields (steps already
// encoded).
func updateCampaign(ctx context.Context, tx *sql.Tx, c Campaign, steps string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `
		UPDATE campaigns SET name = $2, steps = $3, cap_invite = $4, cap_message = $5, cap_inmail = $6,
		       cap_view_profile = $7, stop_on_reply = $8, late_accept_policy = $9, updated_at = $10, updated_by = $11
		 WHERE id = $1`,
		c.ID, c.Name, steps, c.DailyCaps.Invite, c.DailyCaps.Message, c.DailyCaps.InMail,
		c.DailyCaps.ViewProfile, c.StopOnReply, string(c.LateAcceptPolicy), now, actorOf(ctx)); err != nil {
		return fmt.Errorf("updating campaign %s: %w", c.ID, err)
	}
	return nil
}

// setRunning makes a campaign running, clearing its pause reason.
func setRunning(ctx context.Context, tx *sql.Tx, campaignID string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'running', paused_reason = NULL, updated_at = $2, updated_by = $3 WHERE id = $1`,
		campaignID, now, actorOf(ctx))
	return err
}

// setPaused pauses a campaign for reason.
func setPaused(ctx context.Context, tx *sql.Tx, campaignID string, reason PausedReason, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'paused', paused_reason = $2, updated_at = $3, updated_by = $4 WHERE id = $1`,
		campaignID, string(reason), now, actorOf(ctx))
	return err
}

// setArchived archives a campaign.
func setArchived(ctx context.Context, tx *sql.Tx, campaignID string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'archived', paused_reason = NULL, updated_at = $2, updated_by = $3 WHERE id = $1`,
		campaignID, now, actorOf(ctx))
	return err
}

// countLive counts a campaign's enrollments whose sequence is not over.
func countLive(ctx context.Context, tx *sql.Tx, campaignID string) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM enrollments WHERE campaign_id = $1 AND state IN `+liveStates,
		campaignID).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting enrollable prospects of campaign %s: %w", campaignID, err)
	}
	return n, nil
}

// countEnrolled counts all of a campaign's enrollments.
func countEnrolled(ctx context.Context, tx *sql.Tx, campaignID string) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM enrollments WHERE campaign_id = $1`, campaignID).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting prospects of campaign %s: %w", campaignID, err)
	}
	return n, nil
}

// lackingField counts the campaign's live prospects without the custom
// field, with one of them as an example.
func (s *Service) lackingField(ctx context.Context, tx *sql.Tx, campaignID, field string) (int, string, error) {
	var missing int
	var example sql.NullString
	if err := tx.QueryRowContext(ctx, `
		SELECT count(*), min(COALESCE(p.linkedin_url, p.sales_nav_id, p.provider_id))
		  FROM enrollments e JOIN prospects p ON p.id = e.prospect_id
		 WHERE e.campaign_id = $1 AND e.state IN `+liveStates+` AND NOT (`+s.db.JSONFieldIsSet("p.custom_fields", 2)+`)`,
		campaignID, s.db.JSONFieldArg(field)).Scan(&missing, &example); err != nil {
		return 0, "", fmt.Errorf("checking variable %s of campaign %s: %w", field, campaignID, err)
	}
	return missing, example.String, nil
}

// leftover is an account whose campaigns or enrollments disagree with its
// status.
type leftover struct {
	id     string
	status account.Status
}

// flipLeftovers finds what a missed flip consequence could leave behind:
// soft-paused enrollments of connected senders, active ones of senders
// that are not connected, account-paused campaigns with a connected
// sender, running campaigns with none.
func flipLeftovers(ctx context.Context, tx *sql.Tx) ([]leftover, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT DISTINCT e.account_id, a.status
		  FROM enrollments e JOIN linkedin_accounts a ON a.id = e.account_id
		  JOIN campaigns c ON c.id = e.campaign_id AND c.status IN ('running', 'paused')
		 WHERE (e.state = 'soft_paused' AND a.status = 'connected')
		    OR (e.state = 'active' AND a.status <> 'connected')
		UNION
		SELECT DISTINCT ca.account_id, a.status
		  FROM campaigns c JOIN campaign_accounts ca ON ca.campaign_id = c.id AND ca.removed_at IS NULL
		  JOIN linkedin_accounts a ON a.id = ca.account_id
		 WHERE (c.status = 'paused' AND c.paused_reason IN ('account_disconnected', 'account_restricted', 'account_error', 'needs_verification')
		        AND a.status = 'connected')
		    OR (c.status = 'running' AND NOT EXISTS (
		          SELECT 1 FROM campaign_accounts ca2 JOIN linkedin_accounts a2 ON a2.id = ca2.account_id
		           WHERE ca2.campaign_id = c.id AND ca2.removed_at IS NULL AND a2.status = 'connected'))`)
	if err != nil {
		return nil, fmt.Errorf("finding campaign leftovers of account flips: %w", err)
	}
	defer rows.Close()
	var todo []leftover
	for rows.Next() {
		var a leftover
		if err := rows.Scan(&a.id, &a.status); err != nil {
			return nil, fmt.Errorf("finding campaign leftovers of account flips: %w", err)
		}
		todo = append(todo, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("finding campaign leftovers of account flips: %w", err)
	}
	return todo, nil
}

// lockCampaignsOf locks, in id order, the running and paused campaigns
// the accounts are current senders of.
func (s *Service) lockCampaignsOf(ctx context.Context, tx *sql.Tx, accountIDs []string) error {
	args := make([]any, len(accountIDs))
	for i, a := range accountIDs {
		args[i] = a
	}
	lock, err := tx.QueryContext(ctx, `SELECT id FROM campaigns
		 WHERE id IN (SELECT campaign_id FROM campaign_accounts WHERE account_id IN (`+placeholders(1, len(args))+`) AND removed_at IS NULL)
		   AND status IN ('running', 'paused')
		 ORDER BY id`+s.db.LockForUpdate(), args...)
	if err != nil {
		return fmt.Errorf("locking campaigns to reconcile: %w", err)
	}
	lock.Close()
	if err := lock.Err(); err != nil {
		return fmt.Errorf("locking campaigns to reconcile: %w", err)
	}
	return nil
}

// EnrollmentStates counts a campaign's enrollments by state (StateCounts
// for one campaign).
func (s *Service) EnrollmentStates(ctx context.Context, q db.Querier, campaignID string) (map[string]int, error) {
	all, err := s.StateCounts(ctx, q, []string{campaignID})
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for st, n := range all[campaignID] {
		counts[string(st)] = n
	}
	return counts, nil
}

// FoldStateCounts replaces the count deltas of a campaign (of every
// campaign whose deltas have piled up, when campaignID is empty) by their
// sums, in the caller's transaction: the rows it deletes are exactly the
// rows it sums, so deltas appended meanwhile by other transactions stay
// and no count changes (docs/storage.md#enrollment-state-counts).
func (s *Service) FoldStateCounts(ctx context.Context, tx *sql.Tx, campaignID string) (int, error) {
	return db.FoldDeltas(ctx, tx, stateCountsTable, campaignID)
}

// stateCountsTable is enrollment_state_counts as a delta table.
var stateCountsTable = db.DeltaTable{Name: "enrollment_state_counts", Keys: []string{"campaign_id", "state"}}

// DueByStep is when the earliest active enrollment of each sender at each
// step of a campaign is due: sender account id → step id → time. Held
// prospects are not due (docs/campaigns.md#holds). It asks the index
// enrollments_campaign_due_idx once per sender and step of the campaign
// rather than reading its rows (an active enrollment always has a due time).
func (s *Service) DueByStep(ctx context.Context, q db.Querier, c Campaign) (map[string]map[string]time.Time, error) {
	out := map[string]map[string]time.Time{}
	if len(c.AccountIDs) == 0 || len(c.Steps) == 0 {
		return out, nil
	}
	args := []any{c.ID}
	var pairs []string
	for _, acc := range c.AccountIDs {
		for _, st := range c.Steps {
			pairs = append(pairs, fmt.Sprintf("($%d, $%d)", len(args)+1, len(args)+2))
			args = append(args, acc, st.ID)
		}
	}
	rows, err := q.QueryContext(ctx, `WITH pairs(account_id, step_id) AS (VALUES `+strings.Join(pairs, ", ")+`)
		SELECT p.account_id, p.step_id, (SELECT e.next_action_at FROM enrollments e
			WHERE e.campaign_id = $1 AND e.account_id = p.account_id AND e.step_id = p.step_id
			  AND e.state = 'active' AND (e.parked_by IS NULL OR e.parked_by <> '`+HoldCode+`')
			ORDER BY e.next_action_at, e.id LIMIT 1)
		FROM pairs p`, args...)
	if err != nil {
		return nil, fmt.Errorf("finding due steps of campaign %s: %w", c.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var acc, step string
		var at db.NullTime // a subquery's value loses the column's type on SQLite
		if err := rows.Scan(&acc, &step, &at); err != nil {
			return nil, fmt.Errorf("finding due steps of campaign %s: %w", c.ID, err)
		}
		if !at.Valid {
			continue
		}
		if out[acc] == nil {
			out[acc] = map[string]time.Time{}
		}
		out[acc][step] = at.Time
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("finding due steps of campaign %s: %w", c.ID, err)
	}
	return out, nil
}

// EndedAtCondition counts the campaign's prospects ended because a
// condition step timed out with end as its else-branch.
func (s *Service) EndedAtCondition(ctx context.Context, q db.Querier, campaignID string) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM enrollments WHERE campaign_id = $1 AND state = 'ended'
		AND ended_reason LIKE 'condition %'`, campaignID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting prospects ended at a condition: %w", err)
	}
	return n, nil
}

// EndedFor counts a campaign's enrollments ended for each of the reasons
// given (the diagnosis names who left a campaign and why).
func (s *Service) EndedFor(ctx context.Context, q db.Querier, campaignID string, reasons ...string) (map[string]int, error) {
	out := map[string]int{}
	if len(reasons) == 0 {
		return out, nil
	}
	args := []any{campaignID}
	marks := make([]string, len(reasons))
	for i, r := range reasons {
		args = append(args, r)
		marks[i] = fmt.Sprintf("$%d", i+2)
	}
	rows, err := q.QueryContext(ctx, `SELECT ended_reason, count(*) FROM enrollments WHERE campaign_id = $1 AND state = 'ended'
		AND ended_reason IN (`+strings.Join(marks, ", ")+`) GROUP BY ended_reason`, args...)
	if err != nil {
		return nil, fmt.Errorf("counting ended prospects of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			reason string
			n      int
		)
		if err := rows.Scan(&reason, &n); err != nil {
			return nil, fmt.Errorf("counting ended prospects of campaign %s: %w", campaignID, err)
		}
		out[reason] = n
	}
	return out, rows.Err()
}

// LiveEnrollment is what the forecast reads of a prospect whose sequence
// is not over: where it stands and the signals it has had.
type LiveEnrollment struct {
	ID, AccountID string
	State         EnrollmentState
	StepID        string
	// NextActionAt is zero when unset (a pending enrollment).
	NextActionAt          time.Time
	AcceptedAt, RepliedAt time.Time
}

// LiveCount is how many live prospects of a campaign one sender has at
// one step.
type LiveCount struct {
	AccountID, StepID string
	N                 int
}

// LiveSplit says which live enrollments LiveForForecast lists and which
// it only counts: a prospect at one of Steps due at or after DueFrom (the
// forecast's horizon ends there, so it never moves) is counted, unless
// Replied is set and it has replied (stop on reply ends it when the reply
// comes); every other one at one of Steps, and every one at one of
// Conditions (a signal may make it due sooner, and the waiting ones set
// the order of the simulated answers), is listed.
type LiveSplit struct {
	DueFrom           time.Time
	Steps, Conditions []string
	Replied           bool
}

// LiveForForecast reads a campaign's live enrollments as the forecast
// needs them (docs/benchmarks.md#campaign-page): the pending ones and
// those split leaves listed, in id order as LiveEnrollments reads them,
// and the others counted per sender and step, in (sender, step) order.
// Prospects at a step in neither split.Steps nor split.Conditions (since
// removed from the campaign) are left out: the forecast ignores them.
//
// The counted ones are never read: they are the sender's prospects at the
// step (enrollment_step_counts, docs/storage.md#enrollment-step-counts)
// less those listed. The two reads are separate statements, so a prospect
// that moves between them may be counted one off, which a forecast
// tolerates; a count never goes below zero.
func (s *Service) LiveForForecast(ctx context.Context, q db.Querier, campaignID string, split LiveSplit) ([]LiveEnrollment, []LiveCount, error) {
	args := []any{campaignID, split.DueFrom}
	in := func(ids []string) string {
		ph := make([]string, len(ids))
		for i, id := range ids {
			args = append(args, id)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		return "(" + strings.Join(ph, ", ") + ")"
	}
	// Disjoint parts, each a range of enrollments_campaign_live_idx (which
	// holds every column read) but for the pending: the pending prospects;
	// at a step, those not replied and due within the horizon, those with
	// no due time (a soft-paused one may have none), those who replied
	// (with Replied whenever due, else within the horizon); those at a
	// condition. The listing is sorted here, not by the database: ordered
	// by id, each part would walk the campaign, and a sort of the union
	// costs SQLite more than reading it.
	d := s.db
	cols := `SELECT id, account_id, state, step_id, ` + d.TimeText("next_action_at") + `, ` + d.TimeText("accepted_at") + `, ` +
		d.TimeText("replied_at") + ` FROM enrollments `
	const at = `WHERE campaign_id = $1 AND state IN ` + onStepStates + ` AND step_id IN `
	parts := []string{cols + `WHERE campaign_id = $1 AND state = 'pending'`}
	if len(split.Steps) > 0 {
		steps := in(split.Steps)
		parts = append(parts, cols+at+steps+` AND replied_at IS NULL AND next_action_at < $2`)
		if split.Replied {
			parts = append(parts, cols+at+steps+` AND replied_at IS NULL AND next_action_at IS NULL`,
				cols+at+steps+` AND replied_at IS NOT NULL`)
		} else {
			parts = append(parts, cols+at+steps+` AND next_action_at IS NULL`,
				cols+at+steps+` AND replied_at IS NOT NULL AND next_action_at < $2`)
		}
	}
	if len(split.Conditions) > 0 {
		parts = append(parts, cols+at+in(split.Conditions))
	}
	live, err := s.liveEnrollments(ctx, q, campaignID, strings.Join(parts, " UNION ALL "), args...)
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(live, func(a, b LiveEnrollment) int { return strings.Compare(a.ID, b.ID) })
	if len(split.Steps) == 0 {
		return live, nil, nil
	}
	atStep, err := s.StepCounts(ctx, q, campaignID)
	if err != nil {
		return nil, nil, err
	}
	listed := map[LiveCount]int{}
	for _, e := range live {
		if e.State != EnrollmentPending {
			listed[LiveCount{AccountID: e.AccountID, StepID: e.StepID}]++
		}
	}
	var counts []LiveCount
	for _, c := range atStep {
		if !slices.Contains(split.Steps, c.StepID) {
			continue
		}
		if c.N -= listed[LiveCount{AccountID: c.AccountID, StepID: c.StepID}]; c.N > 0 {
			counts = append(counts, c)
		}
	}
	return live, counts, nil
}

// StepCounts is how many prospects of a campaign each sender has at each
// step (active or soft-paused), in (sender, step) order, from
// enrollment_step_counts (docs/storage.md#enrollment-step-counts).
func (s *Service) StepCounts(ctx context.Context, q db.Querier, campaignID string) ([]LiveCount, error) {
	rows, err := q.QueryContext(ctx, `SELECT account_id, step_id, SUM(n) FROM enrollment_step_counts
		WHERE campaign_id = $1 GROUP BY account_id, step_id HAVING SUM(n) <> 0 ORDER BY account_id, step_id`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("counting prospects per step of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	var out []LiveCount
	for rows.Next() {
		var c LiveCount
		if err := rows.Scan(&c.AccountID, &c.StepID, &c.N); err != nil {
			return nil, fmt.Errorf("counting prospects per step of campaign %s: %w", campaignID, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting prospects per step of campaign %s: %w", campaignID, err)
	}
	return out, nil
}

// FoldStepCounts replaces the step count deltas of a campaign (of every
// campaign whose deltas have piled up, when campaignID is empty) by their
// sums, in the caller's transaction, as FoldStateCounts does.
func (s *Service) FoldStepCounts(ctx context.Context, tx *sql.Tx, campaignID string) (int, error) {
	return db.FoldDeltas(ctx, tx, stepCountsTable, campaignID)
}

// stepCountsTable is enrollment_step_counts as a delta table.
var stepCountsTable = db.DeltaTable{Name: "enrollment_step_counts", Keys: []string{"campaign_id", "account_id", "step_id"}}

// onStepStates are the live states with a step (a CHECK keeps a pending
// enrollment without one).
const onStepStates = `('active', 'soft_paused')`

// LiveEnrollments lists a campaign's pending, active and soft-paused
// enrollments in id order (the order the sender breaks ties in).
func (s *Service) LiveEnrollments(ctx context.Context, q db.Querier, campaignID string) ([]LiveEnrollment, error) {
	return s.liveEnrollments(ctx, q, campaignID, `SELECT id, account_id, state, step_id, next_action_at, accepted_at, replied_at
		FROM enrollments WHERE campaign_id = $1 AND state IN `+liveStates+` ORDER BY id`, campaignID)
}

// liveEnrollments runs a query of LiveEnrollment's columns.
func (s *Service) liveEnrollments(ctx context.Context, q db.Querier, campaignID, query string, args ...any) ([]LiveEnrollment, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing live enrollments of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	var out []LiveEnrollment
	for rows.Next() {
		var (
			e                  LiveEnrollment
			step               sql.NullString
			next, acc, replied db.NullTime
		)
		if err := rows.Scan(&e.ID, &e.AccountID, &e.State, &step, &next, &acc, &replied); err != nil {
			return nil, fmt.Errorf("listing live enrollments of campaign %s: %w", campaignID, err)
		}
		e.StepID = step.String
		if next.Valid {
			e.NextActionAt = next.Time.UTC()
		}
		if acc.Valid {
			e.AcceptedAt = acc.Time.UTC()
		}
		if replied.Valid {
			e.RepliedAt = replied.Time.UTC()
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing live enrollments of campaign %s: %w", campaignID, err)
	}
	return out, nil
}
