package account

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// FlipRequest asks for one status change.
type FlipRequest struct {
	AccountID string
	// WorkspaceID, when set, refuses accounts of other workspaces.
	WorkspaceID string
	To          Status
	// Copy becomes last_error. Nil clears it. A flip away from connected
	// must carry copy; a flip to connected may carry only soft copy.
	Copy   *Copy
	Reason string
	Source Source
	// Actor is who asked: a user's email, "system", "keel repair", …
	Actor string
	// Strikes, when set, becomes the strike count (ignored, and reset to
	// zero, when the account becomes connected).
	Strikes *int
	// ExpectFrom, when set, refuses the flip (ErrStale) if the account is
	// no longer in that status: callers that decided on an earlier read
	// must not act on a state that has moved.
	ExpectFrom Status
}

// Flipped describes a committed (or, inside FlipTx, pending) flip. It is
// what consequences receive.
type Flipped struct {
	Before  Account
	After   Account
	AuditID int64
	Reason  string
	Source  Source
	Actor   string
	At      time.Time
}

// Consequence runs inside the flip's transaction, after the status changed:
// pausing or resuming campaigns, raising alerts, emitting events. An error
// rolls the whole flip back, so nobody ever sees a flip without its
// consequences. A consequence must use tx only, never the *sql.DB (on
// SQLite that would wait forever for the connection tx holds).
type Consequence func(ctx context.Context, tx *sql.Tx, f Flipped) error

type namedConsequence struct {
	name string
	fn   Consequence
}

// OnFlip registers a consequence run by every flip, in registration order.
func (s *Service) OnFlip(name string, fn Consequence) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consequences = append(s.consequences, namedConsequence{name: name, fn: fn})
}

// Confirmation runs inside the caller's transaction when provider evidence
// says an account works: a flip to connected, or ConfirmConnectedTx for an
// account that already is. at is the instant of the evidence.
type Confirmation func(ctx context.Context, tx *sql.Tx, accountID string, at time.Time) error

type namedConfirmation struct {
	name string
	fn   Confirmation
}

// OnConfirmedConnected registers fn for every confirmation that an account
// is connected (the health monitor cancels disconnects it still holds), in
// registration order. It must use tx only.
func (s *Service) OnConfirmedConnected(name string, fn Confirmation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.confirmed = append(s.confirmed, namedConfirmation{name: name, fn: fn})
}

func (s *Service) runConfirmations(ctx context.Context, tx *sql.Tx, accountID string, at time.Time) error {
	s.mu.RLock()
	confirmed := s.confirmed
	s.mu.RUnlock()
	for _, c := range confirmed {
		if err := c.fn(ctx, tx, accountID, at); err != nil {
			return fmt.Errorf("confirmation %s for account %s: %w", c.name, accountID, err)
		}
	}
	return nil
}

// Flip changes an account's status in its own transaction: row lock,
// transition check, audit row, the status columns together, consequences.
// It is the only status writer: the database changes a status only by
// applying an audit row, which is what Flip writes.
func (s *Service) Flip(ctx context.Context, req FlipRequest) (Flipped, error) {
	var out Flipped
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.FlipTx(ctx, tx, req)
		return err
	})
	return out, err
}

const insertAuditSQL = `
		INSERT INTO linkedin_account_status_audit
			(account_id, from_status, to_status, reason, source, actor, strikes, created_at, last_error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		RETURNING id`

func (s *Service) lockQuery(inWorkspace bool) string {
	if inWorkspace {
		return s.byIDInWorkspace + s.db.LockForUpdate()
	}
	return s.byID + s.db.LockForUpdate()
}

// SoftUpdate changes what a connected (or otherwise unchanged) account
// shows without changing its status: the strike count and soft copy.
type SoftUpdate struct {
	AccountID string
	// Copy becomes last_error; nil clears it. Terminal copy is refused on a
	// connected account (and the database would refuse it too).
	Copy    *Copy
	Strikes int
	// ExpectStatus refuses the update (ErrStale) when the status moved.
	ExpectStatus Status
}

const updateSoftSQL = `UPDATE linkedin_accounts SET last_error = $2, strikes = $3, updated_at = $4 WHERE id = $1`

// AuditEntry is one row of an account's status history.
type AuditEntry struct {
	ID        int64  `json:"id"`
	AccountID string `json:"account_id"`
	From      Status `json:"from"`
	To        Status `json:"to"`
	Reason    string `json:"reason"`
	Source    string `json:"source"`
	Actor     string `json:"actor"`
	Strikes   int    `json:"strikes"`
	// LastError is the copy the flip showed (empty for rows written before
	// the trail recorded it, and for flips to connected without copy).
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}
