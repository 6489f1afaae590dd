package health

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/account"
)

// GuardState is the state of the mass-404 burst guard.
type GuardState string

// Guard states. Half-open is derived, not stored: an open guard whose quiet
// period is over.
const (
	// GuardClosed: checks run; 404s add strikes.
	GuardClosed GuardState = "closed"
	// GuardOpen: a burst of 404s tripped the guard; no check calls Unipile
	// and no 404 adds a strike or flips anything.
	GuardOpen GuardState = "open"
	// GuardHalfOpen: the quiet period is over; a few probes decide whether
	// the guard closes or stays open for another period.
	GuardHalfOpen GuardState = "half_open"
)

// Guard is a snapshot of the burst guard.
type Guard struct {
	State GuardState `json:"state"`
	// Trips counts every trip since installation; the current (or last)
	// trip's alert dedupe key carries it.
	Trips int64 `json:"trips"`
	// OpenedAt and ReopenAt are set while open: when it tripped and when
	// the quiet period ends.
	OpenedAt *time.Time `json:"opened_at,omitempty"`
	ReopenAt *time.Time `json:"reopen_at,omitempty"`
	// ProbesOK counts healthy probe answers in the current half-open period.
	ProbesOK int `json:"probes_ok"`
}

// guard is the stored row.
type guard struct {
	open     bool
	trips    int64
	openedAt *time.Time
	reopenAt *time.Time
	probesOK int
}

const guardColumns = `state, trips, opened_at, reopen_at, probes_ok`

func scanGuard(row interface{ Scan(...any) error }, g *guard, extra ...any) error {
	var (
		state            string
		opened, reopenAt sql.NullTime
	)
	dest := append([]any{&state, &g.trips, &opened, &reopenAt, &g.probesOK}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	g.open = state == string(GuardOpen)
	g.openedAt, g.reopenAt = timePtr(opened), timePtr(reopenAt)
	return nil
}

// stateAt derives the state at now.
func (g guard) stateAt(now time.Time) GuardState {
	switch {
	case !g.open:
		return GuardClosed
	case g.reopenAt != nil && !now.Before(*g.reopenAt):
		return GuardHalfOpen
	default:
		return GuardOpen
	}
}

// Guard returns the burst guard's state at the clock's now.
func (s *Service) Guard(ctx context.Context) (Guard, error) {
	g, _, err := s.state(ctx)
	if err != nil {
		return Guard{}, err
	}
	return Guard{State: g.stateAt(s.clock.Now()), Trips: g.trips, OpenedAt: g.openedAt, ReopenAt: g.reopenAt, ProbesOK: g.probesOK}, nil
}

// onNotFound handles a 404. Inside one transaction holding the guard lock:
// an open guard swallows it (no strike, no flip); otherwise the window is
// counted and either the guard trips or the account gets its strike.
func (s *Service) onNotFound(ctx context.Context, r *healthRow, now time.Time, probe bool, res *Result) error {
	r.Last404At = &now
	r.UnreachableSince = nil
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		g, err := s.lockGuard(ctx, tx)
		if err != nil {
			return err
		}
		if g.open {
			res.guardOpen = true
			if probe && g.stateAt(now) == GuardHalfOpen {
				if err := s.reopen(ctx, tx, now); err != nil {
					return err
				}
			}
			return s.store(ctx, tx, r, s.nextCheck(now, r.Status))
		}
		checked, notFound, err := s.window(ctx, tx, r.AccountID, now)
		if err != nil {
			return err
		}
		if s.cfg.burstTrips(notFound, checked) {
			res.Tripped = true
			if err := s.trip(ctx, tx, g, now, notFound, checked); err != nil {
				return err
			}
			return s.store(ctx, tx, r, s.nextCheck(now, r.Status))
		}
		if err := s.addStrike(ctx, tx, r, now, res); err != nil {
			return err
		}
		return s.store(ctx, tx, r, s.nextCheck(now, res.To))
	})
}

// addStrike gives the account its next 404 strike; the third disconnects
// it (through the limiter) with terminal copy. A disconnected account
// collects no strikes: there is nothing left to take away.
func (s *Service) addStrike(ctx context.Context, tx *sql.Tx, r *healthRow, now time.Time, res *Result) error {
	a, err := s.accounts.Get(ctx, tx, "", r.AccountID)
	if err != nil {
		return err
	}
	res.From, res.To, res.Strikes = a.Status, a.Status, a.Strikes
	r.Status = a.Status
	if a.Status == account.StatusDisconnected || !mayChange(r, account.StatusDisconnected) {
		return nil
	}
	n := a.Strikes + 1
	if n < account.MaxStrikes {
		u := account.SoftUpdate{AccountID: a.ID, Strikes: n, ExpectStatus: a.Status}
		if a.Status == account.StatusConnected {
			c := account.Soft404(n)
			u.Copy = &c
		} else if a.LastError != "" {
			// Keep what a non-connected account already says; the strike
			// copy would claim the account "remains connected".
			u.Copy = &account.Copy{Text: a.LastError}
		}
		if _, err := s.accounts.UpdateSoft(ctx, tx, u); err != nil {
			return err
		}
		res.Strikes = n
		if n == 1 || r.Strike1At == nil {
			r.Strike1At, r.Strike2At = &now, nil
		}
		if n == 2 {
			r.Strike2At = &now
		}
		return nil
	}
	strikes := account.MaxStrikes
	c := account.TerminalNotRegistered()
	held, err := s.DisconnectTx(ctx, tx, account.FlipRequest{
		AccountID: a.ID, To: account.StatusDisconnected, Copy: &c, Strikes: &strikes,
		Reason: fmt.Sprintf("Unipile answered HTTP 404 (account not registered) on %d consecutive checks", account.MaxStrikes),
		Source: account.SourceHealthCheck, Actor: Actor, ExpectFrom: a.Status,
	})
	if staleOrDone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	res.Held = held
	if !held {
		res.To, res.Strikes = account.StatusDisconnected, strikes
		// The strikes stay as recorded on the account; none is live any
		// more, so the burst guard has nothing of this account to take back.
		r.Strike1At, r.Strike2At = nil, nil
	}
	return nil
}

// probe runs the half-open guard's probes one by one; the first 404 keeps
// the guard open, enough healthy answers close it. It reports whether the
// guard is closed afterwards.
func (s *Service) probe(ctx context.Context, g guard, sum *Summary) (bool, error) {
	need, err := s.probesNeeded(ctx, s.db.SQL)
	if err != nil {
		return false, err
	}
	now := s.clock.Now()
	if need == 0 {
		// Nothing left to probe: nothing can be harmed by closing.
		err := s.closeGuard(ctx, s.db.SQL, now)
		return err == nil, err
	}
	rows, err := s.claimProbes(ctx, now, max(need-g.probesOK, 1))
	if err != nil {
		return false, err
	}
	for i, r := range rows {
		res, err := s.check(ctx, r, true)
		if err != nil {
			sum.Errors++
			return false, errors.Join(err, s.unclaimAll(ctx, rows[i+1:]))
		}
		sum.add(res)
		if res.closedGuard || res.Outcome == OutcomeNotFound {
			// Closed: the sweep that follows checks the rest when due. A
			// 404: the incident goes on, so stop asking.
			return res.closedGuard, s.unclaimAll(ctx, rows[i+1:])
		}
	}
	return false, nil
}

// unclaimAll hands back claimed accounts that were not checked, even when
// ctx has ended (their claims would otherwise wait out the lease).
func (s *Service) unclaimAll(ctx context.Context, rows []*healthRow) error {
	var errs []error
	for _, r := range rows {
		errs = append(errs, s.unclaim(context.WithoutCancel(ctx), r))
	}
	return errors.Join(errs...)
}
