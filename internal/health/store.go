package health

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
)

// healthRow is one claimed account: its account_health row and what the
// check needs of linkedin_accounts, read together when it was claimed.
// A check mutates it and store writes it back whole.
type healthRow struct {
	AccountID      string
	ProviderID     string
	Status         account.Status
	Strikes        int
	LastError      string
	DisconnectedBy string
	// Held: a disconnect of this account was held by the limiter when it
	// was claimed.
	Held bool
	// ProviderFeatures is linkedin_accounts.provider_features as stored, so
	// a check writes the provider's report only when it changed.
	ProviderFeatures sql.NullString

	ClaimToken string
	ClaimedAt  time.Time

	LastCheckedAt    *time.Time
	LastOKAt         *time.Time
	Last404At        *time.Time
	Outcome          Outcome
	SourceStatus     string
	UnreachableSince *time.Time
	Strike1At        *time.Time
	Strike2At        *time.Time
	RestartAt        *time.Time
}

// insertBatch is how many rows one multi-row INSERT carries (two
// parameters each, far below either engine's parameter limit).
const insertBatch = 250

// discover schedules accounts that have no account_health row yet, spread
// at random over the next Interval so that importing many accounts at once
// does not make them all due together.
func (s *Service) discover(ctx context.Context, now time.Time) (int, error) {
	rows, err := s.db.SQL.QueryContext(ctx, `
		SELECT a.id FROM linkedin_accounts a
		 WHERE NOT EXISTS (SELECT 1 FROM account_health h WHERE h.account_id = a.id)`)
	if err != nil {
		return 0, fmt.Errorf("finding unscheduled accounts: %w", err)
	}
	var ids []string
	for rows.Next() {
		var accountID string
		if err := rows.Scan(&accountID); err != nil {
			rows.Close()
			return 0, fmt.Errorf("finding unscheduled accounts: %w", err)
		}
		ids = append(ids, accountID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("finding unscheduled accounts: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(ids); start += insertBatch {
			chunk := ids[start:min(start+insertBatch, len(ids))]
			var b strings.Builder
			args := make([]any, 0, 2*len(chunk))
			b.WriteString(`INSERT INTO account_health (account_id, next_check_at) VALUES `)
			for i, accountID := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "($%d, $%d)", 2*i+1, 2*i+2)
				args = append(args, accountID, s.spread(now))
			}
			b.WriteString(` ON CONFLICT (account_id) DO NOTHING`)
			if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("scheduling %d new accounts: %w", len(ids), err)
	}
	return len(ids), nil
}

// discoverOne schedules one account (due now) if it has no row yet.
func (s *Service) discoverOne(ctx context.Context, accountID string, now time.Time) (bool, error) {
	res, err := s.db.SQL.ExecContext(ctx, `
		INSERT INTO account_health (account_id, next_check_at)
		SELECT id, $2 FROM linkedin_accounts WHERE id = $1
		ON CONFLICT (account_id) DO NOTHING`, accountID, now)
	if err != nil {
		return false, fmt.Errorf("scheduling account %s: %w", accountID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// spread returns a time at random within the Interval after now.
func (s *Service) spread(now time.Time) time.Time {
	return clock.Normalize(now.Add(time.Duration(rand.Int64N(int64(s.cfg.Interval)))))
}

// state reads the guard and how many disconnects are held, in one query.
func (s *Service) state(ctx context.Context) (guard, int, error) {
	var (
		g    guard
		held int
	)
	err := scanGuard(s.db.SQL.QueryRowContext(ctx, `
		SELECT `+guardColumns+`, (SELECT count(*) FROM health_disconnects d WHERE d.state = 'held')
		  FROM health_guard WHERE id = 1`), &g, &held)
	if err != nil {
		return g, 0, fmt.Errorf("reading health guard: %w", err)
	}
	return g, held, nil
}

// countDue counts accounts due at now (what an open guard refuses).
func (s *Service) countDue(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := s.db.SQL.QueryRowContext(ctx,
		`SELECT count(*) FROM account_health WHERE next_check_at <= $1`, now).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting due accounts: %w", err)
	}
	return n, nil
}

// respreadOverdue reschedules accounts overdue by more than one Interval
// (the sweep did not run for a while, or the burst guard held checks back)
// at random over the next Interval. Checking such a backlog at once would
// be a burst of provider calls; spreading it keeps the steady rate, and
// per-account spacing only grows.
func (s *Service) respreadOverdue(ctx context.Context, now time.Time) (int, error) {
	cutoff := now.Add(-s.cfg.Interval)
	rows, err := s.db.SQL.QueryContext(ctx,
		`SELECT account_id FROM account_health WHERE next_check_at <= $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("finding overdue accounts: %w", err)
	}
	var ids []string
	for rows.Next() {
		var accountID string
		if err := rows.Scan(&accountID); err != nil {
			rows.Close()
			return 0, fmt.Errorf("finding overdue accounts: %w", err)
		}
		ids = append(ids, accountID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("finding overdue accounts: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, accountID := range ids {
			if _, err := tx.ExecContext(ctx, `
				UPDATE account_health SET next_check_at = $2, claim_token = NULL
				 WHERE account_id = $1 AND next_check_at <= $3`,
				accountID, s.spread(now), cutoff); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("re-spreading %d overdue accounts: %w", len(ids), err)
	}
	s.log.Info("re-spread overdue account checks over the next interval", "accounts", len(ids), "interval", s.cfg.Interval)
	return len(ids), nil
}

// claimDue takes up to limit due accounts, oldest due first. The claim sets
// next_check_at to the lease end, so the WHERE clause, re-checked by
// PostgreSQL after a concurrent claim commits, lets only one process take
// each account.
func (s *Service) claimDue(ctx context.Context, now time.Time, limit int) ([]*healthRow, error) {
	tok := id.New("hc")
	if _, err := s.db.SQL.ExecContext(ctx, `
		UPDATE account_health SET claim_token = $1, next_check_at = $2
		 WHERE account_id IN (SELECT account_id FROM account_health
		                       WHERE next_check_at <= $3 ORDER BY next_check_at LIMIT $4)
		   AND next_check_at <= $3`,
		tok, now.Add(s.lease()), now, limit); err != nil {
		return nil, fmt.Errorf("claiming due accounts: %w", err)
	}
	return s.claimed(ctx, tok, now)
}

// claimOne takes one account whatever its schedule.
func (s *Service) claimOne(ctx context.Context, accountID string, now time.Time) (*healthRow, error) {
	tok := id.New("hc")
	if _, err := s.db.SQL.ExecContext(ctx, `
		UPDATE account_health SET claim_token = $1, next_check_at = $2 WHERE account_id = $3`,
		tok, now.Add(s.lease()), accountID); err != nil {
		return nil, fmt.Errorf("claiming account %s: %w", accountID, err)
	}
	rows, err := s.claimed(ctx, tok, now)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("claiming account %s: %w", accountID, account.ErrNotFound)
	}
	return rows[0], nil
}

// claimProbes takes up to n accounts for a half-open guard to probe,
// whether due or not: accounts that are not disconnected, those that were
// healthy before first, least recently checked first so successive probe
// rounds rotate through the tenant instead of asking one account that may
// really be gone.
func (s *Service) claimProbes(ctx context.Context, now time.Time, n int) ([]*healthRow, error) {
	tok := id.New("hc")
	if _, err := s.db.SQL.ExecContext(ctx, `
		UPDATE account_health SET claim_token = $1, next_check_at = $2
		 WHERE account_id IN (
		        SELECT h.account_id FROM account_health h JOIN linkedin_accounts a ON a.id = h.account_id
		         WHERE a.status <> 'disconnected' AND (h.claim_token IS NULL OR h.next_check_at <= $3)
		         ORDER BY CASE WHEN h.last_ok_at IS NULL THEN 1 ELSE 0 END,
		                  COALESCE(h.last_checked_at, $4), h.account_id
		         LIMIT $5)`,
		tok, now.Add(s.lease()), now, time.Unix(0, 0).UTC(), n); err != nil {
		return nil, fmt.Errorf("claiming probe accounts: %w", err)
	}
	return s.claimed(ctx, tok, now)
}

// claimed reads the rows a claim token holds.
func (s *Service) claimed(ctx context.Context, tok string, now time.Time) ([]*healthRow, error) {
	rows, err := s.db.SQL.QueryContext(ctx, `
		SELECT h.account_id, a.provider_account_id, a.status, a.strikes,
		       COALESCE(a.last_error, ''), COALESCE(a.disconnected_by, ''),
		       h.last_checked_at, h.last_ok_at, h.last_404_at, h.last_outcome, COALESCE(h.source_status, ''),
		       h.unreachable_since, h.strike1_at, h.strike2_at, h.restart_requested_at,
		       EXISTS (SELECT 1 FROM health_disconnects d WHERE d.account_id = h.account_id AND d.state = 'held'),
		       a.provider_features
		  FROM account_health h JOIN linkedin_accounts a ON a.id = h.account_id
		 WHERE h.claim_token = $1
		 ORDER BY h.next_check_at, h.account_id`, tok)
	if err != nil {
		return nil, fmt.Errorf("reading claimed accounts: %w", err)
	}
	defer rows.Close()
	var out []*healthRow
	for rows.Next() {
		r := &healthRow{ClaimToken: tok, ClaimedAt: now}
		var (
			outcome                                       sql.NullString
			checked, ok, nf, unreach, st1, st2, restarted sql.NullTime
		)
		if err := rows.Scan(&r.AccountID, &r.ProviderID, &r.Status, &r.Strikes, &r.LastError, &r.DisconnectedBy,
			&checked, &ok, &nf, &outcome, &r.SourceStatus, &unreach, &st1, &st2, &restarted, &r.Held,
			&r.ProviderFeatures); err != nil {
			return nil, fmt.Errorf("reading claimed accounts: %w", err)
		}
		r.Outcome = Outcome(outcome.String)
		r.LastCheckedAt, r.LastOKAt, r.Last404At = timePtr(checked), timePtr(ok), timePtr(nf)
		r.UnreachableSince, r.Strike1At, r.Strike2At, r.RestartAt = timePtr(unreach), timePtr(st1), timePtr(st2), timePtr(restarted)
		out = append(out, r)
	}
	return out, rows.Err()
}

// unclaim hands a claimed, unchecked account back, due now.
func (s *Service) unclaim(ctx context.Context, r *healthRow) error {
	if _, err := s.db.SQL.ExecContext(ctx, `
		UPDATE account_health SET claim_token = NULL, next_check_at = $2
		 WHERE account_id = $1 AND claim_token = $3`, r.AccountID, r.ClaimedAt, r.ClaimToken); err != nil {
		return fmt.Errorf("handing back account %s: %w", r.AccountID, err)
	}
	return nil
}

// store writes a checked row back and schedules its next check. The claim
// token condition keeps a check whose lease ran out from overwriting the
// newer check of whoever claimed the account since.
func (s *Service) store(ctx context.Context, q db.Querier, r *healthRow, next time.Time) error {
	var outcome any
	if r.Outcome != "" {
		outcome = string(r.Outcome)
	}
	res, err := q.ExecContext(ctx, `
		UPDATE account_health
		   SET next_check_at = $2, claim_token = NULL, last_checked_at = $3, last_ok_at = $4, last_404_at = $5,
		       last_outcome = $6, source_status = $7, unreachable_since = $8, strike1_at = $9, strike2_at = $10,
		       restart_requested_at = $11
		 WHERE account_id = $1 AND claim_token = $12`,
		r.AccountID, next, timeArg(r.LastCheckedAt), timeArg(r.LastOKAt), timeArg(r.Last404At),
		outcome, db.NullIfEmpty(r.SourceStatus), timeArg(r.UnreachableSince), timeArg(r.Strike1At), timeArg(r.Strike2At),
		timeArg(r.RestartAt), r.ClaimToken)
	if err != nil {
		return fmt.Errorf("storing health of account %s: %w", r.AccountID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		s.log.Warn("health check finished after its claim expired; its schedule update was dropped", "account", r.AccountID)
	}
	return nil
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func timeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}
