package repair

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
)

// SplitState runs the repair over every account.
func SplitState(ctx context.Context, accounts *account.Service, opts Options) (Report, error) {
	d := accounts.DB()
	rep := Report{Applied: opts.Apply, Findings: []Finding{}}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	var total int
	if err := d.SQL.QueryRowContext(ctx, `SELECT count(*) FROM linkedin_accounts`).Scan(&total); err != nil {
		return rep, fmt.Errorf("counting accounts: %w", err)
	}
	after := ""
	for {
		batch, last, scanned, err := scanBatch(ctx, d, after, opts.BatchSize)
		if err != nil {
			return rep, err
		}
		rep.Scanned += scanned
		for _, f := range batch {
			if opts.Apply {
				if err := apply(ctx, accounts, &f); err != nil {
					return rep, err
				}
				rep.Repaired++
			}
			rep.Findings = append(rep.Findings, f)
		}
		if opts.Progress != nil {
			opts.Progress(rep.Scanned, total)
		}
		if scanned < opts.BatchSize {
			break
		}
		after = last
	}
	if opts.Apply && d.HasNotValidConstraints() {
		mrep, err := d.Migrate(ctx)
		if err != nil {
			return rep, fmt.Errorf("validating constraints after repair: %w", err)
		}
		rep.Validated, rep.NotValid = mrep.Validated, mrep.NotValid
	} else if d.HasNotValidConstraints() {
		names, err := d.NotValidConstraints(ctx)
		if err != nil {
			return rep, err
		}
		rep.NotValid = names
	}
	return rep, nil
}

// scanBatch reads up to limit ids after `after` and returns the violating
// rows among them; scanning by id keeps each step small on large tables.
func scanBatch(ctx context.Context, d *db.DB, after string, limit int) ([]Finding, string, int, error) {
	rows, err := d.SQL.QueryContext(ctx, `
		SELECT id, workspace_id, status, COALESCE(last_error, ''), disconnected_at, disconnected_by
		  FROM linkedin_accounts WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, "", 0, fmt.Errorf("scanning accounts: %w", err)
	}
	defer rows.Close()
	var (
		out     []Finding
		last    string
		scanned int
	)
	for rows.Next() {
		var (
			f      Finding
			discAt sql.NullTime
			discBy sql.NullString
		)
		if err := rows.Scan(&f.AccountID, &f.WorkspaceID, &f.Status, &f.LastError, &discAt, &discBy); err != nil {
			return nil, "", 0, fmt.Errorf("scanning accounts: %w", err)
		}
		scanned++
		last = f.AccountID
		if f.Problems = problemsOf(f.Status, f.LastError, discAt, discBy); len(f.Problems) == 0 {
			continue
		}
		if f.Status == string(account.StatusDisconnected) {
			f.Action = "stamp disconnected_at"
		} else {
			f.Action = "flip " + f.Status + " -> disconnected"
		}
		out = append(out, f)
	}
	return out, last, scanned, rows.Err()
}
