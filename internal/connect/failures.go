package connect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
)

// Failure kinds (hosted_auth_failures_kind_chk).
const (
	// FailureExpired: a reconnect link expired without being used.
	FailureExpired = "expired"
	// FailureReported: Unipile's callback for a reconnect link reported a
	// status that does not complete it.
	FailureReported = "failed"
)

// Failure is one failed or abandoned reconnect of an account
// (docs/accounts.md#failed-reconnects). It records what happened to the
// attempt; the account's status is not changed by it.
type Failure struct {
	LinkID    string    `json:"link_id"`
	AccountID string    `json:"account_id"`
	Kind      string    `json:"kind"`
	Detail    string    `json:"detail"`
	At        time.Time `json:"at"`
}

// RecordAbandoned records every reconnect link that expired unused and
// was not followed by a reconnect that worked, once per link, and raises
// the account's reconnect-failed alert when the account is still not
// connected. The periodic connecting watch runs it.
func (s *Service) RecordAbandoned(ctx context.Context) (int, error) {
	now := s.clock.Now()
	links, err := s.abandonedLinks(ctx, now)
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, l := range links {
		ok, err := s.recordFailure(ctx, l, FailureExpired, "the reconnect link expired without the login being finished", now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// recordFailure writes the failure of link l (once; false when it was
// already recorded) and raises the alert when the account is not
// connected.
func (s *Service) recordFailure(ctx context.Context, l link, kind, detail string, now time.Time) (bool, error) {
	created, err := s.insertFailure(ctx, Failure{LinkID: l.id, AccountID: l.accountID, Kind: kind, Detail: detail, At: now}, l.workspaceID)
	if err != nil || !created {
		return false, err
	}
	a, err := s.accounts.Get(ctx, s.db.SQL, l.workspaceID, l.accountID)
	if err != nil {
		return true, fmt.Errorf("reading account %s after a failed reconnect: %w", l.accountID, err)
	}
	s.log.Warn("reconnect failed", "account_id", a.ID, "link_id", l.id, "kind", kind)
	if a.Status == account.StatusConnected {
		return true, nil
	}
	if _, _, err := alert.Raise(ctx, s.db.SQL, now, alert.New{
		WorkspaceID: a.WorkspaceID, Kind: alert.KindReconnectFailed, Severity: alert.Warning,
		SubjectType: "account", SubjectID: a.ID,
		Message: fmt.Sprintf("Reconnecting LinkedIn account %q did not work (%s); it is still %s and nothing is sent through it. Reconnect it again from its page.",
			a.Name, detail, a.Status),
		DedupeKey: alert.KindReconnectFailed + ":account:" + a.ID,
	}); err != nil {
		return true, fmt.Errorf("raising reconnect-failed alert for account %s: %w", a.ID, err)
	}
	return true, nil
}
