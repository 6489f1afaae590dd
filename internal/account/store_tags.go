package account

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/keel-outreach/keel/internal/db"
)

// AddTag labels an account of the workspace with tag (normalized by
// NormalizeTag). Adding a tag the account already has changes nothing
// (docs/accounts.md#tags).
func (s *Service) AddTag(ctx context.Context, workspaceID, accountID, tag, actor string) error {
	t, err := NormalizeTag(tag)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.Get(ctx, tx, workspaceID, accountID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM account_tags WHERE account_id = $1 AND tag <> $2`,
			accountID, t).Scan(&n); err != nil {
			return fmt.Errorf("counting tags of account %s: %w", accountID, err)
		}
		if n >= MaxTagsPerAccount {
			return ErrTooManyTags
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_tags (account_id, tag, created_at, created_by)
			VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, tag) DO NOTHING`,
			accountID, t, s.clock.Now().UTC(), actor); err != nil {
			return fmt.Errorf("tagging account %s: %w", accountID, err)
		}
		return nil
	})
}

// RemoveTag takes a tag off an account of the workspace; a tag the account
// does not have changes nothing.
func (s *Service) RemoveTag(ctx context.Context, workspaceID, accountID, tag string) error {
	if _, err := s.Get(ctx, s.db.SQL, workspaceID, accountID); err != nil {
		return err
	}
	if _, err := s.db.SQL.ExecContext(ctx, `DELETE FROM account_tags WHERE account_id = $1 AND tag = $2`, accountID, tag); err != nil {
		return fmt.Errorf("untagging account %s: %w", accountID, err)
	}
	return nil
}

// TagsOf returns one account's tags, alphabetically.
func TagsOf(ctx context.Context, q db.Querier, accountID string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT tag FROM account_tags WHERE account_id = $1 ORDER BY tag`, accountID)
	if err != nil {
		return nil, fmt.Errorf("reading tags of account %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("reading tags of account %s: %w", accountID, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// WorkspaceTags returns the tags of every account of a workspace, by
// account id, each list alphabetical: one query for the accounts overview.
func WorkspaceTags(ctx context.Context, q db.Querier, workspaceID string) (map[string][]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT t.account_id, t.tag FROM account_tags t
		JOIN linkedin_accounts a ON a.id = t.account_id WHERE a.workspace_id = $1 ORDER BY t.account_id, t.tag`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("reading the tags of workspace %s: %w", workspaceID, err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var acc, t string
		if err := rows.Scan(&acc, &t); err != nil {
			return nil, fmt.Errorf("reading the tags of workspace %s: %w", workspaceID, err)
		}
		out[acc] = append(out[acc], t)
	}
	return out, rows.Err()
}
