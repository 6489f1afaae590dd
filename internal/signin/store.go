package signin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/db"
)

// Begin reserves an attempt for accountKey from source at now, or returns a
// *LockedError when the source or the account is locked.
func Begin(ctx context.Context, d *db.DB, accountKey, source string, now time.Time) (*Attempt, error) {
	// Refuse without writing while locked, so that hammering a locked
	// account or address does not push its unlock time back.
	if err := locked(ctx, d.SQL, accountKey, source, now, atLimit); err != nil {
		return nil, err
	}
	var id int64
	if err := d.SQL.QueryRowContext(ctx, `INSERT INTO login_failures (account_key, source, at)
		VALUES ($1, $2, $3) RETURNING id`, accountKey, source, now).Scan(&id); err != nil {
		return nil, fmt.Errorf("recording a sign-in attempt: %w", err)
	}
	// Counting after writing: of concurrent attempts, the last written sees
	// every other one, so no more than the limit get through.
	if err := locked(ctx, d.SQL, accountKey, source, now, overLimit); err != nil {
		if _, derr := d.SQL.ExecContext(ctx, `DELETE FROM login_failures WHERE id = $1`, id); derr != nil {
			return nil, fmt.Errorf("withdrawing a refused sign-in attempt: %w", derr)
		}
		return nil, err
	}
	return &Attempt{d: d, id: id, accountKey: accountKey}, nil
}

// Failed keeps the attempt counted and sweeps failures that no longer count.
func (a *Attempt) Failed(ctx context.Context, now time.Time) error {
	if _, err := a.d.SQL.ExecContext(ctx, `DELETE FROM login_failures WHERE at <= $1`, now.Add(-Window)); err != nil {
		return fmt.Errorf("sweeping old sign-in failures: %w", err)
	}
	return nil
}

// Unlock clears an account's failures and reports how many there were.
func Unlock(ctx context.Context, q db.Querier, accountKey string) (int64, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM login_failures WHERE account_key = $1`, accountKey)
	if err != nil {
		return 0, fmt.Errorf("clearing sign-in failures: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("clearing sign-in failures: %w", err)
	}
	return n, nil
}

// locked returns a *LockedError when the source or the account has used up
// its failures in the window ending at now.
func locked(ctx context.Context, q db.Querier, accountKey, source string, now time.Time, mode checkMode) error {
	extra := 0
	if mode == overLimit {
		extra = 1
	}
	cutoff := now.Add(-Window)
	for _, c := range []struct {
		scope Scope
		col   string
		value string
		limit int
	}{
		{ScopeSource, "source", source, SourceFailures},
		{ScopeAccount, "account_key", accountKey, AccountFailures},
	} {
		// The limit-th newest failure (counting a written attempt as one
		// more) leaves the window at the unlock time.
		var at db.NullTime
		err := q.QueryRowContext(ctx, `SELECT at FROM login_failures WHERE `+c.col+` = $1 AND at > $2
			ORDER BY at DESC, id DESC LIMIT 1 OFFSET $3`, c.value, cutoff, c.limit-1+extra).Scan(&at)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("counting sign-in failures: %w", err)
		}
		return &LockedError{Scope: c.scope, Until: at.Time.Add(Window)}
	}
	return nil
}
