package campaign

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
)

// fetch loads the workspace's prospects whose col is one of values.
func (im *importer) fetch(ctx context.Context, col string, values []string) error {
	for start := 0; start < len(values); start += importBatch {
		chunk := values[start:min(start+importBatch, len(values))]
		args := []any{im.c.WorkspaceID}
		for _, v := range chunk {
			args = append(args, v)
		}
		rows, err := im.tx.QueryContext(ctx, `SELECT `+prospectColumns+` FROM prospects WHERE workspace_id = $1 AND `+
			col+` IN (`+placeholders(2, len(chunk))+`)`, args...)
		if err != nil {
			return fmt.Errorf("matching stored prospects: %w", err)
		}
		for rows.Next() {
			p, err := scanProspect(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("matching stored prospects: %w", err)
			}
			if im.byID[p.ID] == nil {
				im.index(&p)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("matching stored prospects: %w", err)
		}
	}
	return nil
}

// enrolled says which of the fetched prospects the campaign already has.
func (im *importer) enrolled(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	ids := make([]string, 0, len(im.byID))
	for pid := range im.byID {
		ids = append(ids, pid)
	}
	sort.Strings(ids)
	for start := 0; start < len(ids); start += importBatch {
		chunk := ids[start:min(start+importBatch, len(ids))]
		args := []any{im.c.ID}
		for _, v := range chunk {
			args = append(args, v)
		}
		rows, err := im.tx.QueryContext(ctx, `SELECT prospect_id FROM enrollments WHERE campaign_id = $1 AND prospect_id IN (`+
			placeholders(2, len(chunk))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("checking existing enrollments: %w", err)
		}
		for rows.Next() {
			var pid string
			if err := rows.Scan(&pid); err != nil {
				rows.Close()
				return nil, fmt.Errorf("checking existing enrollments: %w", err)
			}
			out[pid] = 0
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("checking existing enrollments: %w", err)
		}
	}
	return out, nil
}

// history reads what the workspace's campaigns did with the fetched
// prospects: a live enrollment in another campaign, a reply anywhere, and
// when the latest sequence that ended without a reply left live.
func (im *importer) history(ctx context.Context) (map[string]personHistory, error) {
	out := map[string]personHistory{}
	ids := make([]string, 0, len(im.byID))
	for pid := range im.byID {
		ids = append(ids, pid)
	}
	sort.Strings(ids)
	for start := 0; start < len(ids); start += importBatch {
		chunk := ids[start:min(start+importBatch, len(ids))]
		args := []any{im.c.WorkspaceID}
		for _, v := range chunk {
			args = append(args, v)
		}
		rows, err := im.tx.QueryContext(ctx, `SELECT prospect_id, campaign_id, state, replied_at, ended_at, updated_at
			FROM enrollments WHERE workspace_id = $1 AND prospect_id IN (`+placeholders(2, len(chunk))+`)
			ORDER BY prospect_id, created_at, id`, args...)
		if err != nil {
			return nil, fmt.Errorf("reading the people's past enrollments: %w", err)
		}
		for rows.Next() {
			var (
				pid, cid       string
				state          EnrollmentState
				replied, ended sql.NullTime
				updated        time.Time
			)
			if err := rows.Scan(&pid, &cid, &state, &replied, &ended, &updated); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading the people's past enrollments: %w", err)
			}
			h := out[pid]
			switch {
			case state == EnrollmentReplied || replied.Valid:
				h.replied = true
			case state.Live():
				if cid != im.c.ID && h.liveCampaign == "" {
					h.liveCampaign = cid
				}
			default:
				at := updated
				if ended.Valid {
					at = ended.Time
				}
				if at.After(h.lastEnded) {
					h.lastEnded = at
				}
			}
			out[pid] = h
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("reading the people's past enrollments: %w", err)
		}
	}
	return out, nil
}

// liveCampaigns says which campaign holds each prospect's live enrollment
// (prospects with none are absent).
func (im *importer) liveCampaigns(ctx context.Context, prospectIDs []string) (map[string]string, error) {
	out := map[string]string{}
	for start := 0; start < len(prospectIDs); start += importBatch {
		chunk := prospectIDs[start:min(start+importBatch, len(prospectIDs))]
		args := []any{im.c.WorkspaceID}
		for _, v := range chunk {
			args = append(args, v)
		}
		rows, err := im.tx.QueryContext(ctx, `SELECT prospect_id, campaign_id FROM enrollments
			WHERE workspace_id = $1 AND state IN `+liveStates+` AND prospect_id IN (`+placeholders(2, len(chunk))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("finding the people's live enrollments: %w", err)
		}
		for rows.Next() {
			var pid, cid string
			if err := rows.Scan(&pid, &cid); err != nil {
				rows.Close()
				return nil, fmt.Errorf("finding the people's live enrollments: %w", err)
			}
			out[pid] = cid
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("finding the people's live enrollments: %w", err)
		}
	}
	return out, nil
}

func (im *importer) insertProspects(ctx context.Context, ps []*Prospect) error {
	const cols = 11
	for start := 0; start < len(ps); start += importBatch {
		chunk := ps[start:min(start+importBatch, len(ps))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO prospects (id, workspace_id, linkedin_url, public_slug, sales_nav_id, provider_id,
			first_name, last_name, company, custom_fields, created_at, updated_at) VALUES `)
		args := make([]any, 0, len(chunk)*cols)
		for i, p := range chunk {
			custom, err := encodeCustom(p.Custom)
			if err != nil {
				return err
			}
			if i > 0 {
				sb.WriteString(", ")
			}
			n := len(args) + 1
			fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)",
				n, n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+10)
			args = append(args, p.ID, p.WorkspaceID, db.NullIfEmpty(p.LinkedInURL), db.NullIfEmpty(p.PublicSlug), db.NullIfEmpty(p.SalesNavID),
				db.NullIfEmpty(p.ProviderID), p.FirstName, p.LastName, p.Company, custom, im.now)
		}
		// ON CONFLICT DO NOTHING + RETURNING counts what went in, so a
		// concurrent insert of the same person is reported, not a crash.
		sb.WriteString(` ON CONFLICT DO NOTHING RETURNING id`)
		rows, err := im.tx.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return fmt.Errorf("storing prospects: %w", err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("storing prospects: %w", err)
		}
		if n != len(chunk) {
			return errConcurrentImport(im.c)
		}
	}
	return nil
}

func (im *importer) updateProspect(ctx context.Context, p *Prospect) error {
	custom, err := encodeCustom(p.Custom)
	if err != nil {
		return err
	}
	p.UpdatedAt = im.now
	if _, err := im.tx.ExecContext(ctx, `
		UPDATE prospects SET linkedin_url = $2, public_slug = $3, sales_nav_id = $4, provider_id = $5,
		       first_name = $6, last_name = $7, company = $8, custom_fields = $9, updated_at = $10
		 WHERE id = $1`,
		p.ID, db.NullIfEmpty(p.LinkedInURL), db.NullIfEmpty(p.PublicSlug), db.NullIfEmpty(p.SalesNavID), db.NullIfEmpty(p.ProviderID),
		p.FirstName, p.LastName, p.Company, custom, im.now); err != nil {
		if db.IsUniqueViolation(err) {
			return errConcurrentImport(im.c)
		}
		return fmt.Errorf("updating prospect %s: %w", p.ID, err)
	}
	return nil
}

// insertEnrollments enrolls the prospects, each with the least-loaded
// sender. In a running campaign they start at the first step, due now
// (soft-paused if their sender is not connected); otherwise they wait,
// pending, for Start or Resume. It returns the prospects the database
// refused because a concurrent transaction made them live first (the
// one-live-sequence index, docs/contacts.md#one-live-sequence).
func (im *importer) insertEnrollments(ctx context.Context, prospectIDs []string) ([]string, error) {
	var refused []string
	const cols = 9
	state, step, next := EnrollmentPending, any(nil), any(nil)
	if im.c.Status == StatusRunning {
		state, step, next = EnrollmentActive, FirstStepID(im.c.Steps), im.now
	}
	for start := 0; start < len(prospectIDs); start += importBatch {
		chunk := prospectIDs[start:min(start+importBatch, len(prospectIDs))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO enrollments (id, workspace_id, campaign_id, prospect_id, account_id, state, step_id,
			next_action_at, created_at, updated_at) VALUES `)
		args := make([]any, 0, len(chunk)*cols)
		for i, pid := range chunk {
			sender := leastLoaded(im.loads, im.order)
			im.loads[sender]++
			st := state
			if st == EnrollmentActive && !im.connected[sender] {
				st = EnrollmentSoftPaused
			}
			if i > 0 {
				sb.WriteString(", ")
			}
			n := len(args) + 1
			fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n, n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+8)
			args = append(args, id.New("enr"), im.c.WorkspaceID, im.c.ID, pid, sender, string(st), step, next, im.now)
		}
		// ON CONFLICT DO NOTHING + RETURNING tells which went in, so a
		// person a concurrent import made live first is reported, not a
		// failed import.
		sb.WriteString(` ON CONFLICT DO NOTHING RETURNING prospect_id`)
		rows, err := im.tx.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("enrolling prospects in campaign %s: %w", im.c.ID, err)
		}
		in := map[string]bool{}
		for rows.Next() {
			var pid string
			if err := rows.Scan(&pid); err != nil {
				rows.Close()
				return nil, fmt.Errorf("enrolling prospects in campaign %s: %w", im.c.ID, err)
			}
			in[pid] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("enrolling prospects in campaign %s: %w", im.c.ID, err)
		}
		for _, pid := range chunk {
			if !in[pid] {
				refused = append(refused, pid)
			}
		}
	}
	return refused, nil
}
