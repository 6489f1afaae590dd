package campaign

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
)

// ListedSQL is a boolean SQL expression: the prospect aliased p is on its
// workspace's do-not-contact list, matched by any id Keel knows for them
// (imported provider id, Sales Navigator lead id, resolved member id;
// imported or resolved /in/ handle). Company entries match no one
// (docs/contacts.md#company-entries).
func ListedSQL(p string) string {
	return `EXISTS (SELECT 1 FROM do_not_contact d WHERE d.workspace_id = ` + p + `.workspace_id
		AND (d.provider_id IN (` + p + `.provider_id, ` + p + `.sales_nav_id, ` + p + `.member_id)
		  OR d.public_slug IN (` + p + `.public_slug, ` + p + `.public_handle)))`
}

const dncColumns = `id, workspace_id, linkedin_url, public_slug, provider_id, company_url, reason, created_at, created_by`

func scanDNC(row scanner) (DNCEntry, error) {
	var (
		e                     DNCEntry
		link, slug, pid, comp sql.NullString
	)
	if err := row.Scan(&e.ID, &e.WorkspaceID, &link, &slug, &pid, &comp, &e.Reason, &e.CreatedAt, &e.CreatedBy); err != nil {
		return DNCEntry{}, err
	}
	e.LinkedInURL, e.slug, e.ProviderID, e.CompanyURL = link.String, slug.String, pid.String, comp.String
	e.CreatedAt = e.CreatedAt.UTC()
	return e, nil
}

// AddDNC adds entries to a workspace's do-not-contact list, row by row, in
// one transaction, and ends the live enrollments of every listed person in
// that same transaction (ended_reason do_not_contact), so no claim after
// it commits can send to them. A row already listed (stored, or an earlier
// row of the request) is a duplicate; a row that cannot be used is
// invalid with its reason. createdBy names who adds them.
func (s *Service) AddDNC(ctx context.Context, workspaceID, createdBy string, rows []DNCRow) (DNCResult, error) {
	res := DNCResult{Rows: make([]DNCRowResult, 0, len(rows))}
	if len(rows) > MaxDNCRows {
		return res, ErrDNCTooLarge
	}
	now := s.clock.Now().UTC()
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		seen := map[string]int{}
		for _, r := range rows {
			rr := DNCRowResult{Row: r.Row}
			e, err := r.entry()
			switch {
			case r.Problem != "":
				rr.Status, rr.Error = DNCRowInvalid, r.Problem
			case err != nil:
				rr.Status, rr.Error = DNCRowInvalid, err.Error()
			case seen[e.key()] != 0:
				rr.Status, rr.Error = DNCRowDuplicate, fmt.Sprintf("same entry as row %d", seen[e.key()])
			default:
				seen[e.key()] = r.Row
				e.ID = id.New("dnc")
				var got string
				err := tx.QueryRowContext(ctx, `INSERT INTO do_not_contact (`+dncColumns+`)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING id`,
					e.ID, workspaceID, db.NullIfEmpty(e.LinkedInURL), db.NullIfEmpty(e.slug), db.NullIfEmpty(e.ProviderID),
					db.NullIfEmpty(e.CompanyURL), e.Reason, now, createdBy).Scan(&got)
				switch {
				case errors.Is(err, sql.ErrNoRows):
					rr.Status, rr.Error = DNCRowDuplicate, e.Label()+" is already on the do-not-contact list"
				case err != nil:
					return fmt.Errorf("adding %s to the do-not-contact list: %w", e.Label(), err)
				default:
					rr.Status, rr.ID = DNCRowAdded, got
					res.Added++
				}
			}
			if rr.Status != DNCRowAdded {
				res.Skipped++
			}
			res.Rows = append(res.Rows, rr)
		}
		if res.Added == 0 {
			return nil
		}
		n, err := endListed(ctx, tx, workspaceID, now)
		res.Ended = n
		return err
	})
	if err != nil {
		return DNCResult{}, err
	}
	return res, nil
}

// endListed ends the live enrollments of the workspace's listed prospects.
func endListed(ctx context.Context, tx *sql.Tx, workspaceID string, now time.Time) (int, error) {
	r, err := tx.ExecContext(ctx, `
		UPDATE enrollments SET state = 'ended', ended_reason = $2, next_action_at = NULL, parked_by = NULL, updated_at = $3
		 WHERE workspace_id = $1 AND state IN `+liveStates+`
		   AND prospect_id IN (SELECT p.id FROM prospects p WHERE p.workspace_id = $1 AND `+ListedSQL("p")+`)`,
		workspaceID, EndedDoNotContact, now)
	if err != nil {
		return 0, fmt.Errorf("ending the enrollments of listed prospects: %w", err)
	}
	n, _ := r.RowsAffected()
	return int(n), nil
}

// ListDNC pages a workspace's do-not-contact list, oldest first, after the
// id After (keyset pagination); limit 0 means no cap.
func (s *Service) ListDNC(ctx context.Context, q db.Querier, workspaceID, after string, limit int) ([]DNCEntry, error) {
	query := `SELECT ` + dncColumns + ` FROM do_not_contact WHERE workspace_id = $1 AND id > $2 ORDER BY id`
	args := []any{workspaceID, after}
	if limit > 0 {
		query += ` LIMIT $3`
		args = append(args, limit)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing the do-not-contact list: %w", err)
	}
	defer rows.Close()
	out := []DNCEntry{}
	for rows.Next() {
		e, err := scanDNC(rows)
		if err != nil {
			return nil, fmt.Errorf("listing the do-not-contact list: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// RemoveDNC deletes one entry. Enrollments it ended stay ended: the person
// can be imported again to contact them (docs/contacts.md#do-not-contact).
func (s *Service) RemoveDNC(ctx context.Context, workspaceID, entryID string) error {
	// The removal row is written first, from the entry, so it exists
	// exactly when the entry was there to delete
	// (docs/teams.md#who-changed-what).
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO do_not_contact_removals (entry_id, workspace_id, entry, created_by, removed_by, removed_at)
			SELECT id, workspace_id, COALESCE(linkedin_url, provider_id, company_url, ''), created_by, $3, $4
			FROM do_not_contact WHERE workspace_id = $1 AND id = $2`, workspaceID, entryID, actorOf(ctx), s.clock.Now().UTC()); err != nil {
			return fmt.Errorf("recording the removal of do-not-contact entry %s: %w", entryID, err)
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM do_not_contact WHERE workspace_id = $1 AND id = $2`, workspaceID, entryID)
		if err != nil {
			return fmt.Errorf("removing do-not-contact entry %s: %w", entryID, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrDNCNotFound
		}
		return nil
	})
}

// ListDNCRemovals pages a workspace's do-not-contact removals, newest
// first, after the removal whose entry id is after (keyset pagination on
// removed_at, then entry id); limit 0 means no cap. An after naming no
// removal of the workspace is ErrDNCRemovalCursor, so a stale or foreign
// cursor is refused rather than read as an empty page.
func (s *Service) ListDNCRemovals(ctx context.Context, q db.Querier, workspaceID, after string, limit int) ([]DNCRemoval, error) {
	query := `SELECT entry_id, entry, created_by, removed_by, removed_at FROM do_not_contact_removals WHERE workspace_id = $1`
	args := []any{workspaceID}
	if after != "" {
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM do_not_contact_removals WHERE workspace_id = $1 AND entry_id = $2`, workspaceID, after).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrDNCRemovalCursor
		}
		if err != nil {
			return nil, fmt.Errorf("reading the do-not-contact removals cursor: %w", err)
		}
		// The cursor row is compared in SQL, so both engines compare the
		// stored times as they store them.
		args = append(args, after)
		query += ` AND (removed_at, entry_id) < (SELECT c.removed_at, c.entry_id FROM do_not_contact_removals c
			WHERE c.workspace_id = $1 AND c.entry_id = $2)`
	}
	query += ` ORDER BY removed_at DESC, entry_id DESC`
	if limit > 0 {
		args = append(args, limit)
		query += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing the do-not-contact removals: %w", err)
	}
	defer rows.Close()
	out := []DNCRemoval{}
	for rows.Next() {
		var r DNCRemoval
		if err := rows.Scan(&r.EntryID, &r.Entry, &r.CreatedBy, &r.RemovedBy, &r.RemovedAt); err != nil {
			return nil, fmt.Errorf("listing the do-not-contact removals: %w", err)
		}
		r.RemovedAt = r.RemovedAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// ProspectListed says whether a prospect is on its workspace's
// do-not-contact list (the claim's check, docs/contacts.md#do-not-contact).
func (s *Service) ProspectListed(ctx context.Context, q db.Querier, prospectID string) (bool, error) {
	var listed bool
	if err := q.QueryRowContext(ctx, `SELECT `+ListedSQL("p")+` FROM prospects p WHERE p.id = $1`, prospectID).Scan(&listed); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return false, fmt.Errorf("checking the do-not-contact list: %w", err)
	}
	return listed, nil
}

// listedKeys loads the person keys ("slug:…", "pid:…") of a workspace's
// do-not-contact list, for an import to check its rows against.
func listedKeys(ctx context.Context, tx *sql.Tx, workspaceID string) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT public_slug, provider_id FROM do_not_contact
		WHERE workspace_id = $1 AND company_url IS NULL`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("reading the do-not-contact list: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var slug, pid sql.NullString
		if err := rows.Scan(&slug, &pid); err != nil {
			return nil, fmt.Errorf("reading the do-not-contact list: %w", err)
		}
		if slug.Valid {
			out["slug:"+strings.ToLower(slug.String)] = true
		}
		if pid.Valid {
			out["pid:"+pid.String] = true
		}
	}
	return out, rows.Err()
}
