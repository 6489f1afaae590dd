package health

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
)

// heldDedupeKey makes held disconnects one open admin alert, however many
// are held, until a person acknowledges it.
const heldDedupeKey = alert.KindHeldDisconnects

// ErrNotDisconnect is returned by Disconnect for a request that is not a
// flip to disconnected with copy.
var ErrNotDisconnect = errors.New("health: the limiter only takes flips to disconnected that carry copy")

// Disconnect applies a provider-driven flip to disconnected (a 404 strike 3,
// a CREDENTIALS status, a CREDENTIALS or DELETED webhook) through the
// mass-disconnect limiter, in its own transaction. Within the limit it flips
// at once through account.Service.FlipTx; beyond it the flip is held in the
// database (held = true), an admin alert is raised, and a later RunDue
// applies it when the window allows. An account already disconnected is left
// as it is (held = false, err = nil). req.To may be empty; req.Copy is
// required because a held flip must say why when it is finally applied.
func (s *Service) Disconnect(ctx context.Context, req account.FlipRequest) (held bool, err error) {
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		held, err = s.DisconnectTx(ctx, tx, req)
		return err
	})
	return held, err
}

// DisconnectTx is Disconnect inside the caller's transaction (for example
// the webhook processor's, so that marking a delivery processed and the
// flip or hold commit together). On SQLite, tx must be the only use of the
// database until it ends.
func (s *Service) DisconnectTx(ctx context.Context, tx *sql.Tx, req account.FlipRequest) (held bool, err error) {
	if req.To == "" {
		req.To = account.StatusDisconnected
	}
	if req.To != account.StatusDisconnected || req.Copy == nil || req.Copy.Text == "" {
		return false, ErrNotDisconnect
	}
	if _, err := s.lockGuard(ctx, tx); err != nil {
		return false, err
	}
	a, err := s.accounts.Get(ctx, tx, req.WorkspaceID, req.AccountID)
	if err != nil {
		return false, err
	}
	if a.Status == account.StatusDisconnected {
		return false, nil
	}
	if req.ExpectFrom != "" && a.Status != req.ExpectFrom {
		return false, &account.TransitionError{AccountID: a.ID, From: a.Status, To: req.To, Source: req.Source,
			Err: account.ErrStale, Detail: "expected " + string(req.ExpectFrom)}
	}
	// Refuse now what the flip would refuse later, so that nothing invalid
	// is ever held.
	if err := account.CheckTransition(a.ID, a.Status, req.To, req.Source, req.Copy); err != nil {
		return false, err
	}
	now := s.clock.Now()
	used, limit, err := s.budget(ctx, tx, now)
	if err != nil {
		return false, err
	}
	if used < limit {
		if _, err := s.accounts.FlipTx(ctx, tx, req); err != nil {
			return false, err
		}
		_, err := s.record(ctx, tx, req, "applied", now)
		return false, err
	}
	return s.hold(ctx, tx, req, now, limit)
}

// errReleaseRetry rolls back a release whose account moved between the
// read and the flip; the next round re-reads it.
var errReleaseRetry = errors.New("held disconnect: account moved; retrying")

// ReleaseHeld applies held disconnects, oldest first, as far as the
// limiter's window allows, and returns how many it flipped. A held
// disconnect of an account that is already disconnected ends superseded.
// RunDue calls it; the webhook processor may too.
func (s *Service) ReleaseHeld(ctx context.Context) (int, error) {
	released := 0
	// Each round decides one row in its own short transaction; the bound
	// only guards against a pathological loop.
	for round := 0; round < 10000; round++ {
		var done, flipped bool
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			done, flipped, err = s.releaseOne(ctx, tx)
			return err
		})
		if errors.Is(err, errReleaseRetry) {
			continue
		}
		if err != nil {
			return released, fmt.Errorf("releasing held disconnects: %w", err)
		}
		if flipped {
			released++
		}
		if done {
			break
		}
	}
	return released, nil
}

// HeldDisconnect is one disconnect waiting for the limiter.
type HeldDisconnect struct {
	AccountID   string         `json:"account_id"`
	Source      account.Source `json:"source"`
	Reason      string         `json:"reason"`
	Copy        account.Copy   `json:"copy"`
	RequestedAt time.Time      `json:"requested_at"`
}
