package health

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/db"
)

// budget returns how many provider-driven disconnects were applied in the
// current window and how many the window allows. The ledger is the count.
func (s *Service) budget(ctx context.Context, tx *sql.Tx, now time.Time) (used, limit int, err error) {
	var total int
	if err := tx.QueryRowContext(ctx, `
		SELECT (SELECT count(*) FROM linkedin_accounts),
		       (SELECT count(*) FROM health_disconnects WHERE state = 'applied' AND decided_at > $1)`,
		now.Add(-s.cfg.DisconnectWindow)).Scan(&total, &used); err != nil {
		return 0, 0, fmt.Errorf("counting recent disconnects: %w", err)
	}
	return used, s.cfg.disconnectLimit(total), nil
}

// record writes a ledger row: an applied flip, or a held one. It reports
// whether a row was written: a second hold for an account already held
// writes nothing (the first request's reason and time stand).
func (s *Service) record(ctx context.Context, tx *sql.Tx, req account.FlipRequest, state string, now time.Time) (bool, error) {
	var decided, strikes any
	if state != "held" {
		decided = now
	}
	if req.Strikes != nil {
		strikes = *req.Strikes
	}
	res, err := tx.ExecContext(ctx, `
		INSERT INTO health_disconnects (account_id, state, source, reason, actor, copy_code, copy_text, strikes, requested_at, decided_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (account_id) WHERE state = 'held' DO NOTHING`,
		req.AccountID, state, string(req.Source), req.Reason, req.Actor, req.Copy.Code, req.Copy.Text,
		strikes, now, decided)
	if err != nil {
		return false, fmt.Errorf("recording %s disconnect of account %s: %w", state, req.AccountID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// hold stores a disconnect the window does not allow now and raises the
// admin alert. A second request for an account already held keeps the
// first and raises nothing new.
func (s *Service) hold(ctx context.Context, tx *sql.Tx, req account.FlipRequest, now time.Time, limit int) (bool, error) {
	written, err := s.record(ctx, tx, req, "held", now)
	if err != nil {
		return false, err
	}
	if !written {
		return true, nil // already held
	}
	var held int
	if err := tx.QueryRowContext(ctx,
		`SELECT count(*) FROM health_disconnects WHERE state = 'held'`).Scan(&held); err != nil {
		return false, fmt.Errorf("counting held disconnects: %w", err)
	}
	msg := fmt.Sprintf("Unipile asked to disconnect more accounts than the mass-disconnect limit allows (%d per %s). "+
		"%d disconnect(s) are held and will be applied as later windows allow; a provider incident would show here first. "+
		"Check Unipile's status before acting on these accounts.",
		limit, formatWindow(s.cfg.DisconnectWindow), held)
	if _, _, err := alert.Raise(ctx, tx, now, alert.New{
		Kind: alert.KindHeldDisconnects, Severity: alert.Warning, Message: msg, DedupeKey: heldDedupeKey,
	}); err != nil {
		return false, err
	}
	s.log.Warn("disconnect held by the mass-disconnect limiter", "account", req.AccountID, "source", req.Source,
		"limit", limit, "held", held)
	return true, nil
}

// releaseOne decides the oldest held disconnect if the window allows it.
// done reports that nothing more can be released now.
func (s *Service) releaseOne(ctx context.Context, tx *sql.Tx) (done, flipped bool, err error) {
	if _, err := s.lockGuard(ctx, tx); err != nil {
		return true, false, err
	}
	var (
		rowID       int64
		req         account.FlipRequest
		strikes     sql.NullInt64
		requestedAt time.Time
		c           account.Copy
	)
	err = tx.QueryRowContext(ctx, `
		SELECT id, account_id, source, reason, actor, copy_code, copy_text, strikes, requested_at
		  FROM health_disconnects WHERE state = 'held' ORDER BY requested_at, id LIMIT 1`).
		Scan(&rowID, &req.AccountID, &req.Source, &req.Reason, &req.Actor, &c.Code, &c.Text, &strikes, &requestedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return true, false, nil
	}
	if err != nil {
		return true, false, fmt.Errorf("reading held disconnects: %w", err)
	}
	now := s.clock.Now()
	a, err := s.accounts.Get(ctx, tx, "", req.AccountID)
	if err != nil {
		return true, false, err
	}
	if a.Status == account.StatusDisconnected {
		return false, false, s.decide(ctx, tx, rowID, "superseded", now)
	}
	used, limit, err := s.budget(ctx, tx, now)
	if err != nil {
		return true, false, err
	}
	if used >= limit {
		return true, false, nil
	}
	req.To, req.Copy, req.ExpectFrom = account.StatusDisconnected, &c, a.Status
	if err := account.CheckTransition(a.ID, a.Status, req.To, req.Source, req.Copy); err != nil {
		// The account moved somewhere this source may not take it from:
		// there is nothing left to apply.
		return false, false, s.decide(ctx, tx, rowID, "superseded", now)
	}
	// Mark the row first: it takes the held row's lock before the account's,
	// the same order as a healthy check canceling holds, so the two cannot
	// deadlock.
	if err := s.decide(ctx, tx, rowID, "applied", now); err != nil {
		return true, false, err
	}
	req.Reason = fmt.Sprintf("%s (held by the mass-disconnect limiter since %s)", req.Reason, requestedAt.UTC().Format(time.RFC3339))
	if strikes.Valid {
		n := int(strikes.Int64)
		req.Strikes = &n
	}
	if _, err := s.accounts.FlipTx(ctx, tx, req); err != nil {
		if errors.Is(err, account.ErrStale) {
			// Moved between the read and the lock: roll back the mark and
			// decide again on the new state.
			return false, false, errReleaseRetry
		}
		return true, false, err
	}
	s.log.Info("held disconnect released", "account", req.AccountID, "held_since", requestedAt)
	return false, true, nil
}

// decide ends a held row.
func (s *Service) decide(ctx context.Context, tx *sql.Tx, rowID int64, state string, now time.Time) error {
	if _, err := tx.ExecContext(ctx,
		`UPDATE health_disconnects SET state = $2, decided_at = $3 WHERE id = $1 AND state = 'held'`,
		rowID, state, now); err != nil {
		return fmt.Errorf("deciding held disconnect %d: %w", rowID, err)
	}
	return nil
}

// CancelHeld cancels the account's held disconnects requested before
// observedAt: newer evidence (Unipile reports the account OK, or it was
// reconnected) outranks them. Pass the time the evidence was observed, so
// that a hold requested after it stands. It returns how many were canceled.
func (s *Service) CancelHeld(ctx context.Context, tx *sql.Tx, accountID string, observedAt time.Time) (int, error) {
	res, err := tx.ExecContext(ctx, `
		UPDATE health_disconnects SET state = 'canceled', decided_at = $3
		 WHERE account_id = $1 AND state = 'held' AND requested_at < $2`,
		accountID, observedAt, s.clock.Now())
	if err != nil {
		return 0, fmt.Errorf("canceling held disconnects of account %s: %w", accountID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// cancelHeldSince cancels held disconnects with the given copy code
// requested at or after since (the burst guard's rollback of 404 strike-3
// disconnects made during the incident).
func (s *Service) cancelHeldSince(ctx context.Context, tx *sql.Tx, copyCode string, since, now time.Time) (int, error) {
	res, err := tx.ExecContext(ctx, `
		UPDATE health_disconnects SET state = 'canceled', decided_at = $3
		 WHERE state = 'held' AND copy_code = $1 AND requested_at >= $2`, copyCode, since, now)
	if err != nil {
		return 0, fmt.Errorf("canceling held 404 disconnects: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Held lists the disconnects currently held, oldest first.
func (s *Service) Held(ctx context.Context) ([]HeldDisconnect, error) {
	rows, err := s.db.SQL.QueryContext(ctx, `
		SELECT account_id, source, reason, copy_code, copy_text, requested_at
		  FROM health_disconnects WHERE state = 'held' ORDER BY requested_at, id`)
	if err != nil {
		return nil, fmt.Errorf("listing held disconnects: %w", err)
	}
	defer rows.Close()
	var out []HeldDisconnect
	for rows.Next() {
		var h HeldDisconnect
		if err := rows.Scan(&h.AccountID, &h.Source, &h.Reason, &h.Copy.Code, &h.Copy.Text, &h.RequestedAt); err != nil {
			return nil, fmt.Errorf("listing held disconnects: %w", err)
		}
		h.RequestedAt = h.RequestedAt.UTC()
		out = append(out, h)
	}
	return out, rows.Err()
}

// CountHeld counts the provider-driven disconnects the limiter holds, for
// the metrics scrape.
func CountHeld(ctx context.Context, q db.Querier) ([]db.GroupCount, error) {
	out, err := db.QueryGroupCounts(ctx, q, 0, `SELECT count(*) FROM health_disconnects WHERE state = 'held'`)
	if err != nil {
		return nil, fmt.Errorf("counting held disconnects: %w", err)
	}
	return out, nil
}
