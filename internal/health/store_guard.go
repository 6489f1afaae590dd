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

// lockGuard reads the guard row and, on PostgreSQL, locks it until tx ends.
// Every decision that depends on the guard or the limiter's count takes
// this lock first, so concurrent processes decide one after another.
func (s *Service) lockGuard(ctx context.Context, tx *sql.Tx) (guard, error) {
	var g guard
	if err := scanGuard(tx.QueryRowContext(ctx,
		`SELECT `+guardColumns+` FROM health_guard WHERE id = 1`+s.db.LockForUpdate()), &g); err != nil {
		return g, fmt.Errorf("locking health guard: %w", err)
	}
	return g, nil
}

// window counts, over the burst window, the distinct accounts checked and
// those that answered 404, this check included (its row is not written
// yet).
func (s *Service) window(ctx context.Context, tx *sql.Tx, accountID string, now time.Time) (checked, notFound int, err error) {
	since := now.Add(-s.cfg.BurstWindow)
	if err := tx.QueryRowContext(ctx, `
		SELECT count(*), COALESCE(sum(CASE WHEN last_404_at >= $1 THEN 1 ELSE 0 END), 0)
		  FROM account_health WHERE last_checked_at >= $1 AND account_id <> $2`,
		since, accountID).Scan(&checked, &notFound); err != nil {
		return 0, 0, fmt.Errorf("counting 404s in the burst window: %w", err)
	}
	return checked + 1, notFound + 1, nil
}

// trip opens the guard: strikes added inside the window are taken back
// (with their soft copy), disconnects held on those 404s are canceled, and
// one critical admin alert is raised for this trip.
func (s *Service) trip(ctx context.Context, tx *sql.Tx, g guard, now time.Time, notFound, checked int) error {
	reopenAt := now.Add(s.cfg.BurstQuietPeriod)
	if _, err := tx.ExecContext(ctx, `
		UPDATE health_guard SET state = 'open', trips = trips + 1, opened_at = $1, reopen_at = $2,
		       probes_ok = 0, updated_at = $1
		 WHERE id = 1`, now, reopenAt); err != nil {
		return fmt.Errorf("tripping the burst guard: %w", err)
	}
	since := now.Add(-s.cfg.BurstWindow)
	rolledBack, err := s.rollbackStrikes(ctx, tx, since)
	if err != nil {
		return err
	}
	canceled, err := s.cancelHeldSince(ctx, tx, account.TerminalNotRegistered().Code, since, now)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Unipile answered HTTP 404 (account not registered) for %d of the %d accounts checked in the last %s: "+
		"treated as a provider incident, not as deleted accounts. While the guard is open no 404 adds a strike or disconnects anything; "+
		"%d strike(s) added in that window were taken back and %d held disconnect(s) canceled. "+
		"Checks pause until %s, then %d probe(s) decide whether normal checking resumes.",
		notFound, checked, formatWindow(s.cfg.BurstWindow), rolledBack, canceled,
		reopenAt.Format(time.RFC3339), s.cfg.BurstProbes)
	if _, _, err := alert.Raise(ctx, tx, now, alert.New{
		Kind: alert.KindMass404Burst, Severity: alert.Critical, Message: msg,
		DedupeKey: fmt.Sprintf("%s:trip:%d", alert.KindMass404Burst, g.trips+1),
	}); err != nil {
		return err
	}
	s.log.Error("mass-404 burst guard tripped", "not_found", notFound, "checked", checked,
		"strikes_rolled_back", rolledBack, "held_canceled", canceled, "reopen_at", reopenAt)
	return nil
}

// rollbackStrikes takes back every live strike added at or after since, on
// every account, and clears (or lowers) the soft 404 copy with it.
func (s *Service) rollbackStrikes(ctx context.Context, tx *sql.Tx, since time.Time) (int, error) {
	type struck struct {
		id         string
		status     account.Status
		strikes    int
		lastError  string
		st1, st2   *time.Time
		keptBefore int
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT h.account_id, a.status, a.strikes, COALESCE(a.last_error, ''), h.strike1_at, h.strike2_at
		  FROM account_health h JOIN linkedin_accounts a ON a.id = h.account_id
		 WHERE a.strikes > 0 AND a.status <> 'disconnected'
		   AND (h.strike1_at >= $1 OR h.strike2_at >= $1)`, since)
	if err != nil {
		return 0, fmt.Errorf("finding strikes to roll back: %w", err)
	}
	var list []struck
	for rows.Next() {
		var (
			x        struck
			st1, st2 sql.NullTime
		)
		if err := rows.Scan(&x.id, &x.status, &x.strikes, &x.lastError, &st1, &st2); err != nil {
			rows.Close()
			return 0, fmt.Errorf("finding strikes to roll back: %w", err)
		}
		x.st1, x.st2 = timePtr(st1), timePtr(st2)
		list = append(list, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("finding strikes to roll back: %w", err)
	}
	total := 0
	for _, x := range list {
		// Strikes are consecutive, so those added in the window are the
		// newest ones; keep the ones added before it.
		kept := 0
		var keep1 *time.Time
		if x.st1 != nil && x.st1.Before(since) {
			kept, keep1 = 1, x.st1
		}
		if x.strikes >= 2 && x.st2 != nil && x.st2.Before(since) {
			kept = 2
		}
		kept = min(kept, x.strikes)
		u := account.SoftUpdate{AccountID: x.id, Strikes: kept, ExpectStatus: x.status}
		switch {
		case x.status == account.StatusConnected && kept > 0:
			c := account.Soft404(kept)
			u.Copy = &c
		case x.status == account.StatusConnected:
			u.Copy = nil
		case x.lastError != "":
			u.Copy = &account.Copy{Text: x.lastError}
		}
		if _, err := s.accounts.UpdateSoft(ctx, tx, u); err != nil {
			if errors.Is(err, account.ErrStale) {
				continue
			}
			return 0, fmt.Errorf("rolling back strikes of account %s: %w", x.id, err)
		}
		var st2 *time.Time
		if kept == 2 {
			st2 = x.st2
		}
		if kept == 0 {
			keep1 = nil
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE account_health SET strike1_at = $2, strike2_at = $3 WHERE account_id = $1`,
			x.id, timeArg(keep1), timeArg(st2)); err != nil {
			return 0, fmt.Errorf("rolling back strike times of account %s: %w", x.id, err)
		}
		total += x.strikes - kept
	}
	return total, nil
}

// reopen keeps a half-open guard open for another quiet period: a probe
// answered 404 again.
func (s *Service) reopen(ctx context.Context, tx *sql.Tx, now time.Time) error {
	reopenAt := now.Add(s.cfg.BurstQuietPeriod)
	if _, err := tx.ExecContext(ctx, `
		UPDATE health_guard SET reopen_at = $1, probes_ok = 0, updated_at = $2 WHERE id = 1 AND state = 'open'`,
		reopenAt, now); err != nil {
		return fmt.Errorf("keeping the burst guard open: %w", err)
	}
	s.log.Warn("burst guard probe answered 404; guard stays open", "reopen_at", reopenAt)
	return nil
}

// probeAnswered counts a healthy probe answer and closes the guard once
// enough probes (BurstProbes, or every account that can be probed if there
// are fewer) answered. It reports whether the guard closed.
func (s *Service) probeAnswered(ctx context.Context, tx *sql.Tx, now time.Time) (bool, error) {
	g, err := s.lockGuard(ctx, tx)
	if err != nil {
		return false, err
	}
	if g.stateAt(now) != GuardHalfOpen {
		return !g.open, nil
	}
	need, err := s.probesNeeded(ctx, tx)
	if err != nil {
		return false, err
	}
	if g.probesOK+1 < need {
		_, err := tx.ExecContext(ctx,
			`UPDATE health_guard SET probes_ok = probes_ok + 1, updated_at = $1 WHERE id = 1`, now)
		if err != nil {
			return false, fmt.Errorf("counting a burst guard probe: %w", err)
		}
		return false, nil
	}
	if err := s.closeGuard(ctx, tx, now); err != nil {
		return false, err
	}
	s.log.Info("burst guard closed: probes answered normally", "probes", need)
	return true, nil
}

// closeGuard ends a trip; its alert stays open for a person to read.
func (s *Service) closeGuard(ctx context.Context, q db.Querier, now time.Time) error {
	if _, err := q.ExecContext(ctx, `
		UPDATE health_guard SET state = 'closed', opened_at = NULL, reopen_at = NULL, probes_ok = 0, updated_at = $1
		 WHERE id = 1`, now); err != nil {
		return fmt.Errorf("closing the burst guard: %w", err)
	}
	return nil
}

// probesNeeded is BurstProbes, or fewer when fewer accounts can be probed.
func (s *Service) probesNeeded(ctx context.Context, q db.Querier) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx,
		`SELECT count(*) FROM linkedin_accounts WHERE status <> 'disconnected'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting accounts to probe: %w", err)
	}
	return min(s.cfg.BurstProbes, n), nil
}

// GuardOpenGauge is 1 for an open (or half-open) burst guard and 0 for a
// closed one, one row per guard row, for the metrics scrape.
func GuardOpenGauge(ctx context.Context, q db.Querier) ([]db.GroupCount, error) {
	out, err := db.QueryGroupCounts(ctx, q, 0, `SELECT CASE WHEN state = 'closed' THEN 0 ELSE 1 END FROM health_guard`)
	if err != nil {
		return nil, fmt.Errorf("reading the burst guard: %w", err)
	}
	return out, nil
}

// IncidentReopenSQL is a scalar subquery giving the burst guard's reopen
// time while it is open (NULL otherwise). The send path embeds it in the
// claim's one ledger read, so an incident costs the claim no round trip;
// IncidentFrom reads its value (docs/sending.md#incidents).
const IncidentReopenSQL = `(SELECT reopen_at FROM health_guard WHERE id = 1 AND state = 'open')`

// IncidentFrom is when the burst guard stops holding sends, from
// IncidentReopenSQL's value at now: its reopen time while the guard is open
// and its quiet period runs, zero otherwise (half-open lets sends probe).
func IncidentFrom(reopenAt db.NullTime, now time.Time) time.Time {
	g := guard{open: reopenAt.Valid}
	if reopenAt.Valid {
		t := reopenAt.Time.UTC()
		g.reopenAt = &t
	}
	if g.stateAt(now) != GuardOpen {
		return time.Time{}
	}
	return *g.reopenAt
}

// IncidentUntil reads IncidentFrom on its own: the dispatch's last check
// before it calls Unipile, for a send claimed before the guard opened.
func IncidentUntil(ctx context.Context, q db.Querier, now time.Time) (time.Time, error) {
	var reopen db.NullTime
	if err := q.QueryRowContext(ctx, `SELECT `+IncidentReopenSQL).Scan(&reopen); err != nil {
		return time.Time{}, fmt.Errorf("reading the burst guard: %w", err)
	}
	return IncidentFrom(reopen, now), nil
}
