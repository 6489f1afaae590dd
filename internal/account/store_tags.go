package account

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

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

// TagNames returns the distinct tags used in a workspace, alphabetically:
// the overview's tag filter.
func TagNames(ctx context.Context, q db.Querier, workspaceID string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT t.tag FROM account_tags t
		JOIN linkedin_accounts a ON a.id = t.account_id WHERE a.workspace_id = $1 ORDER BY t.tag`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("reading the tag names of workspace %s: %w", workspaceID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("reading the tag names of workspace %s: %w", workspaceID, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// TagsFor returns the tags of the given accounts (a page), by account id.
func TagsFor(ctx context.Context, q db.Querier, accountIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(accountIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(accountIDs))
	marks := make([]string, len(accountIDs))
	for i, id := range accountIDs {
		args[i] = id
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	rows, err := q.QueryContext(ctx, `SELECT account_id, tag FROM account_tags WHERE account_id IN (`+strings.Join(marks, ", ")+`)
		ORDER BY account_id, tag`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the tags of %d accounts: %w", len(accountIDs), err)
	}
	defer rows.Close()
	for rows.Next() {
		var acc, t string
		if err := rows.Scan(&acc, &t); err != nil {
			return nil, fmt.Errorf("reading the tags of %d accounts: %w", len(accountIDs), err)
		}
		out[acc] = append(out[acc], t)
	}
	return out, rows.Err()
}

// SetTags replaces an account's tags with typed (normalized by
// NormalizeTags) and returns the new set, alphabetically. A bad entry or
// more than MaxTagsPerAccount refuses the whole set (*TagsError) and
// changes nothing (docs/accounts.md#tags).
func (s *Service) SetTags(ctx context.Context, workspaceID, accountID string, typed []string, actor string) ([]string, error) {
	want, err := NormalizeTags(typed)
	if err != nil {
		return nil, err
	}
	return s.editTags(ctx, workspaceID, accountID, actor, func([]string) ([]string, error) { return want, nil })
}

// AddTags adds the typed tags to an account's and returns its set; a bad
// entry, or a set that would pass MaxTagsPerAccount, refuses them all
// (*TagsError) and changes nothing.
func (s *Service) AddTags(ctx context.Context, workspaceID, accountID string, typed []string, actor string) ([]string, error) {
	add, err := NormalizeTags(typed)
	if err != nil {
		return nil, err
	}
	return s.editTags(ctx, workspaceID, accountID, actor, func(cur []string) ([]string, error) {
		out := append([]string(nil), cur...)
		for _, t := range add {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
		if len(out) > MaxTagsPerAccount {
			return nil, &TagsError{Fields: []TagError{{Field: "tags", Message: fmt.Sprintf("%s (the account has %d; these would make %d)",
				ErrTooManyTags, len(cur), len(out))}}}
		}
		return out, nil
	})
}

// RemoveTags takes the typed tags off an account and returns what is
// left; a tag the account does not have is no change, a typed entry that
// is not a tag refuses them all (*TagsError).
func (s *Service) RemoveTags(ctx context.Context, workspaceID, accountID string, typed []string) ([]string, error) {
	drop, err := NormalizeTags(typed)
	if err != nil {
		return nil, err
	}
	return s.editTags(ctx, workspaceID, accountID, "", func(cur []string) ([]string, error) {
		var out []string
		for _, t := range cur {
			if !slices.Contains(drop, t) {
				out = append(out, t)
			}
		}
		return out, nil
	})
}

// editTags makes an account's tags what change says, given the current
// ones, in one transaction that locks the account so two edits do not
// interleave; tags kept keep their creator.
func (s *Service) editTags(ctx context.Context, workspaceID, accountID, actor string, change func(cur []string) ([]string, error)) ([]string, error) {
	var out []string
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		args := []any{accountID}
		if workspaceID != "" {
			args = append(args, workspaceID)
		}
		if _, err := ScanWith(tx.QueryRowContext(ctx, s.lockQuery(workspaceID != ""), args...)); db.IsNoRows(err) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("locking account %s: %w", accountID, err)
		}
		cur, err := TagsOf(ctx, tx, accountID)
		if err != nil {
			return err
		}
		want, err := change(cur)
		if err != nil {
			return err
		}
		now := s.clock.Now().UTC()
		for _, t := range cur {
			if !slices.Contains(want, t) {
				if _, err := tx.ExecContext(ctx, `DELETE FROM account_tags WHERE account_id = $1 AND tag = $2`, accountID, t); err != nil {
					return fmt.Errorf("untagging account %s: %w", accountID, err)
				}
			}
		}
		for _, t := range want {
			if !slices.Contains(cur, t) {
				if _, err := tx.ExecContext(ctx, `INSERT INTO account_tags (account_id, tag, created_at, created_by) VALUES ($1, $2, $3, $4)`,
					accountID, t, now, actor); err != nil {
					return fmt.Errorf("tagging account %s: %w", accountID, err)
				}
			}
		}
		out = append([]string{}, want...)
		slices.Sort(out)
		return nil
	})
	return out, err
}

// loadTagsChunk bounds the ids of one LoadTags query, well under both
// engines' limits on bound parameters.
const loadTagsChunk = 500

// LoadTags fills the Tags of the given accounts: one query for a page,
// one per 500 accounts for a longer list.
func LoadTags(ctx context.Context, q db.Querier, accs []Account) error {
	for start := 0; start < len(accs); start += loadTagsChunk {
		part := accs[start:min(start+loadTagsChunk, len(accs))]
		ids := make([]string, len(part))
		for i, a := range part {
			ids[i] = a.ID
		}
		tags, err := TagsFor(ctx, q, ids)
		if err != nil {
			return err
		}
		for i := range part {
			part[i].Tags = tags[part[i].ID]
			if part[i].Tags == nil {
				part[i].Tags = []string{}
			}
		}
	}
	return nil
}
