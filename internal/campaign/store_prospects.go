package campaign

// SQL of the campaign page's prospect list and its per-row actions
// (docs/campaigns.md#acting-on-one-prospect).

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/db"
)

// ProspectFilter narrows and pages a campaign's prospect list.
type ProspectFilter struct {
	// State, when set, keeps only enrollments in that state.
	State EnrollmentState
	// StepID, when set, keeps only enrollments at that step.
	StepID string
	// Search, when set, keeps prospects whose name or LinkedIn URL
	// contains it (case-insensitive).
	Search string
	// After is the last enrollment id of the previous page.
	After string
	// Limit caps the page; 0 means no cap.
	Limit int
}

// ListedProspect is one row of a campaign's prospect list: the
// enrollment, the prospect's last name and what holds it (parked_by).
type ListedProspect struct {
	Enrollment
	LastName string
	// ParkedBy is the gate code, or HeldByPerson, holding the prospect;
	// empty when nothing does.
	ParkedBy string
}

// Name is the prospect's full name, or empty.
func (p ListedProspect) Name() string {
	return strings.TrimSpace(p.FirstName + " " + p.LastName)
}

// likePattern escapes s for a LIKE … ESCAPE '\' pattern matching it
// anywhere, lower-cased.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// pageUnknownSendColumn is unknownSendColumn found through the ledger's
// one-per-step index (its condition spelled out so SQLite uses it): an
// enrollment is its campaign and prospect. Without it each row of a page
// scans the campaign's ledger.
const pageUnknownSendColumn = `(SELECT MIN(s.id) FROM sends s WHERE s.campaign_id = e.campaign_id AND s.step_id = e.step_id
	AND s.prospect_id = e.prospect_id AND s.state = 'unknown' AND s.state NOT IN ('failed', 'cancelled'))`

// prospectQuery builds the list query for f: the page's enrollment ids
// first (keyset by id, on enrollments_campaign_page_idx or
// enrollments_campaign_state_page_idx), then the columns of those rows
// only, so a page of a large campaign neither sorts nor reads the whole
// campaign.
func prospectQuery(campaignID string, f ProspectFilter) (string, []any) {
	inner := `SELECT e.id FROM enrollments e`
	where := ` WHERE e.campaign_id = $1`
	args := []any{campaignID}
	if f.State != "" {
		args = append(args, string(f.State))
		where += fmt.Sprintf(` AND e.state = $%d`, len(args))
	}
	if f.StepID != "" {
		args = append(args, f.StepID)
		where += fmt.Sprintf(` AND e.step_id = $%d`, len(args))
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		inner += ` JOIN prospects p ON p.id = e.prospect_id`
		args = append(args, likePattern(s))
		n := len(args)
		where += fmt.Sprintf(` AND (LOWER(p.first_name || ' ' || p.last_name) LIKE $%d ESCAPE '\'
			OR LOWER(COALESCE(p.linkedin_url, '')) LIKE $%d ESCAPE '\'
			OR LOWER(COALESCE(p.sales_nav_id, '')) LIKE $%d ESCAPE '\')`, n, n, n)
	}
	if f.After != "" {
		args = append(args, f.After)
		where += fmt.Sprintf(` AND e.id > $%d`, len(args))
	}
	inner += where + ` ORDER BY e.id`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		inner += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	return `SELECT ` + enrollmentColumns + `, ` + pageUnknownSendColumn + `, p.last_name
		FROM (` + inner + `) pg JOIN enrollments e ON e.id = pg.id JOIN prospects p ON p.id = e.prospect_id
		ORDER BY e.id`, args
}

// EachProspect calls fn for every prospect of a campaign that f keeps, in
// enrollment id order (f.Limit and f.After apply when set). The campaign
// must belong to workspaceID, else ErrNotFound.
func (s *Service) EachProspect(ctx context.Context, q db.Querier, workspaceID, campaignID string, f ProspectFilter, fn func(ListedProspect) error) error {
	if _, err := s.read(ctx, q, workspaceID, campaignID, false); err != nil {
		return err
	}
	query, args := prospectQuery(campaignID, f)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("listing prospects of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			p                  ListedProspect
			step, ended, lerr  sql.NullString
			link, nav, pid     sql.NullString
			unknown, parked    sql.NullString
			next, acc, replied sql.NullTime
		)
		if err := rows.Scan(&p.ID, &p.WorkspaceID, &p.CampaignID, &p.ProspectID, &p.AccountID, &p.State, &step,
			&next, &ended, &lerr, &p.Failures, &acc, &replied, &p.CreatedAt, &p.UpdatedAt,
			&parked, &link, &nav, &pid, &p.FirstName, &unknown, &p.LastName); err != nil {
			return fmt.Errorf("listing prospects of campaign %s: %w", campaignID, err)
		}
		p.StepID, p.EndedReason, p.LastError, p.ProviderID = step.String, ended.String, lerr.String, pid.String
		p.NextActionAt, p.AcceptedAt, p.RepliedAt = timePtr(next), timePtr(acc), timePtr(replied)
		p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
		p.LinkedInURL, p.UnknownSendID, p.ParkedBy = link.String, unknown.String, parked.String
		if p.LinkedInURL == "" && nav.String != "" {
			p.LinkedInURL = SalesNavURL(nav.String)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("listing prospects of campaign %s: %w", campaignID, err)
	}
	return nil
}

// lockedProspect is an enrollment as a per-row action reads it, locked.
type lockedProspect struct {
	id, campaignID, stepID, parkedBy string
	state                            EnrollmentState
	acceptedAt, repliedAt            sql.NullTime
	senderConnected                  bool
	sendInFlight                     bool
}

// lockProspect reads one enrollment of a campaign of the workspace and
// locks it, with whether its sender is connected and whether a send of
// its current step is in flight; ErrNotFound when there is none.
func (s *Service) lockProspect(ctx context.Context, tx *sql.Tx, workspaceID, campaignID, enrollmentID string) (lockedProspect, error) {
	var (
		r              lockedProspect
		step, parked   sql.NullString
		status         string
		inflight       int
		lockSuffix     = s.db.LockForUpdateOf("e")
		inflightColumn = `(SELECT COUNT(*) FROM sends s WHERE s.campaign_id = e.campaign_id AND s.step_id = e.step_id
			AND s.prospect_id = e.prospect_id AND s.state IN ('intent', 'dispatched', 'unknown') AND s.state NOT IN ('failed', 'cancelled'))`
	)
	err := tx.QueryRowContext(ctx, `SELECT e.id, e.campaign_id, e.step_id, e.parked_by, e.state, e.accepted_at, e.replied_at,
		a.status, `+inflightColumn+`
		FROM enrollments e JOIN linkedin_accounts a ON a.id = e.account_id
		WHERE e.id = $1 AND e.campaign_id = $2 AND e.workspace_id = $3`+lockSuffix, enrollmentID, campaignID, workspaceID).
		Scan(&r.id, &r.campaignID, &step, &parked, &r.state, &r.acceptedAt, &r.repliedAt, &status, &inflight)
	if db.IsNoRows(err) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("locking enrollment %s: %w", enrollmentID, err)
	}
	r.stepID, r.parkedBy = step.String, parked.String
	r.senderConnected, r.sendInFlight = status == "connected", inflight > 0
	return r, nil
}

// holdByPerson parks a live, started enrollment as held by a person:
// soft-paused, its step and due time kept (now when it had none).
func holdByPerson(ctx context.Context, tx *sql.Tx, enrollmentID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET state = 'soft_paused', parked_by = $2,
		next_action_at = COALESCE(next_action_at, $3), updated_at = $3
		WHERE id = $1 AND state IN ('active', 'soft_paused')`, enrollmentID, HeldByPerson, now); err != nil {
		return fmt.Errorf("holding enrollment %s: %w", enrollmentID, err)
	}
	return nil
}

// releaseHold lets a held enrollment go on, due now: active when its
// sender is connected, else soft-paused until it is.
func releaseHold(ctx context.Context, tx *sql.Tx, enrollmentID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET state = CASE WHEN `+senderConnected+` THEN 'active' ELSE 'soft_paused' END,
		parked_by = NULL, next_action_at = $3, updated_at = $3
		WHERE id = $1 AND state = 'soft_paused' AND parked_by = $2`, enrollmentID, HeldByPerson, now); err != nil {
		return fmt.Errorf("releasing enrollment %s: %w", enrollmentID, err)
	}
	return nil
}

// notHeldByPerson is true in an enrollments statement for rows a person
// did not hold: a sender's reconnect or a campaign's resume does not
// release those.
const notHeldByPerson = `(parked_by IS NULL OR parked_by <> '` + HeldByPerson + `')`

// StateCounts counts the enrollments of several campaigns by state, in
// one query: campaign id → state → count. The counts are the sums of the
// deltas the enrollments' triggers append
// (docs/storage.md#enrollment-state-counts), so reading them costs the
// same at 100 prospects as at 100,000.
func (s *Service) StateCounts(ctx context.Context, q db.Querier, campaignIDs []string) (map[string]map[EnrollmentState]int, error) {
	out := map[string]map[EnrollmentState]int{}
	if len(campaignIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(campaignIDs))
	for i, id := range campaignIDs {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT campaign_id, state, SUM(n) FROM enrollment_state_counts
		WHERE campaign_id IN (`+placeholders(1, len(campaignIDs))+`) GROUP BY campaign_id, state HAVING SUM(n) <> 0`, args...)
	if err != nil {
		return nil, fmt.Errorf("counting enrollments of campaigns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var st EnrollmentState
		var n int
		if err := rows.Scan(&id, &st, &n); err != nil {
			return nil, fmt.Errorf("counting enrollments of campaigns: %w", err)
		}
		if out[id] == nil {
			out[id] = map[EnrollmentState]int{}
		}
		out[id][st] = n
	}
	return out, rows.Err()
}
