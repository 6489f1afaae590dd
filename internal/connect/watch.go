package connect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/unipile"
)

// WatchConnecting makes one pass over accounts in status connecting. An
// account connecting for longer than StuckAfter (default 5 minutes) is
// re-polled with GET /accounts/{id}, at most once per PollEvery and at most
// MaxPollsPerRun accounts per pass, and its status follows what Unipile
// reports (OK → connected, CREDENTIALS → disconnected, ERROR/STOPPED →
// error) through the state-flip helper. One still connecting after
// AlertAfter (default 1 hour) raises one admin alert (kind
// stuck_connecting, deduplicated per account). Schedule it every minute or
// so; it returns database failures, while provider failures are logged and
// retried on the next pass.
func (s *Service) WatchConnecting(ctx context.Context) error {
	ids, err := s.connectingIDs(ctx)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	polls := 0
	var errs []error
	for _, accountID := range ids {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a, err := s.accounts.Get(ctx, s.db.SQL, "", accountID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if a.Status != account.StatusConnecting {
			continue
		}
		since, err := s.connectingSince(ctx, a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		age := now.Sub(since)
		if age < s.stuckAfter {
			continue
		}
		reported := "not re-polled yet"
		if polls < s.maxPolls && s.duePoll(a.ID, now) {
			polls++
			var stillConnecting bool
			reported, stillConnecting, err = s.repoll(ctx, a)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !stillConnecting {
				s.forgetPoll(a.ID)
				continue
			}
		}
		if age >= s.alertAfter {
			if err := s.raiseStuck(ctx, a, age, reported); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// duePoll reports whether the account may be polled now and records it.
func (s *Service) duePoll(accountID string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.lastPoll[accountID]; ok && now.Sub(last) < s.pollEvery {
		return false
	}
	s.lastPoll[accountID] = now
	return true
}

func (s *Service) forgetPoll(accountID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.lastPoll, accountID)
}

// repoll asks Unipile about a connecting account and applies its answer. It
// returns what Unipile reported and whether the account is still
// connecting. Provider errors are logged, not returned: they are not
// evidence about the account (a 404 is the health checker's to count).
func (s *Service) repoll(ctx context.Context, a account.Account) (string, bool, error) {
	remote, err := s.client.GetAccount(ctx, a.ProviderAccountID)
	if err != nil {
		s.log.Warn("stuck-connecting re-poll failed", "account_id", a.ID, "kind", unipile.KindOf(err).String(), "error", err)
		return "unreachable (" + unipile.KindOf(err).String() + ")", true, nil
	}
	st := remote.SourceStatus()
	req := account.FlipRequest{
		AccountID: a.ID, ExpectFrom: account.StatusConnecting, Source: account.SourceHealthCheck, Actor: "keel",
		Reason: "stuck-connecting re-poll: Unipile reports " + st,
	}
	// The same reading as an import: anything but a usable or failed
	// status leaves the account connecting.
	if req.To, req.Copy = syncTarget(st); req.To == account.StatusConnecting {
		if st == "" {
			st = "no status"
		}
		return st, true, nil
	}
	var held bool
	if req.To == account.StatusDisconnected {
		held, err = s.disconnect(ctx, req)
	} else {
		_, err = s.accounts.Flip(ctx, req)
	}
	var te *account.TransitionError
	switch {
	case err == nil:
		s.log.Info("stuck-connecting account re-polled", "account_id", a.ID, "source_status", st, "to", req.To, "held", held)
		return st, held, nil
	case errors.As(err, &te):
		// Moved on since it was listed (ErrStale) or not allowed: nothing to
		// do in this pass.
		return st, false, nil
	default:
		return st, true, fmt.Errorf("applying re-poll of account %s: %w", a.ID, err)
	}
}

// raiseStuck raises (or counts again) the account's stuck-connecting alert.
func (s *Service) raiseStuck(ctx context.Context, a account.Account, age time.Duration, reported string) error {
	_, created, err := alert.Raise(ctx, s.db.SQL, s.clock.Now(), alert.New{
		WorkspaceID: a.WorkspaceID,
		Kind:        alert.KindStuckConnecting,
		Severity:    alert.Warning,
		SubjectType: "account",
		SubjectID:   a.ID,
		Message: fmt.Sprintf("LinkedIn account %q has been connecting for %s (Unipile: %s). Nothing is sent through it; check it in Unipile or connect it again.",
			a.Name, age.Truncate(time.Minute), reported),
		DedupeKey: alert.KindStuckConnecting + ":account:" + a.ID,
	})
	if err != nil {
		return fmt.Errorf("raising stuck-connecting alert for account %s: %w", a.ID, err)
	}
	if created {
		s.log.Warn("account stuck connecting", "account_id", a.ID, "for", age)
	}
	return nil
}
