package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/db"
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

// ConfirmConnectedTx records provider evidence that an already connected
// account works: strikes and soft copy left by earlier failures are
// cleared and the confirmations run, in tx. It is what a flip to connected
// does for an account that needs no flip; on an account that is not
// connected it does nothing.
func (s *Service) ConfirmConnectedTx(ctx context.Context, tx *sql.Tx, accountID string) error {
	a, err := s.lock(ctx, tx, accountID, "")
	if err != nil {
		return err
	}
	if a.Status != StatusConnected {
		return nil
	}
	now := s.clock.Now()
	if a.Strikes != 0 || a.LastError != "" {
		if _, err := s.db.TxExec(ctx, tx, updateSoftSQL, accountID, nil, 0, now); err != nil {
			return fmt.Errorf("clearing soft state of account %s: %w", accountID, err)
		}
	}
	return s.runConfirmations(ctx, tx, accountID, now)
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

// FlipTx is Flip inside the caller's transaction, for callers whose own
// writes must commit or roll back together with the flip.
func (s *Service) FlipTx(ctx context.Context, tx *sql.Tx, req FlipRequest) (Flipped, error) {
	if req.AccountID == "" || req.Reason == "" {
		return Flipped{}, &TransitionError{AccountID: req.AccountID, To: req.To, Source: req.Source,
			Err: ErrInvalidRequest, Detail: "account id and reason are required"}
	}
	before, err := s.lock(ctx, tx, req.AccountID, req.WorkspaceID)
	if err != nil {
		return Flipped{}, err
	}
	if req.ExpectFrom != "" && before.Status != req.ExpectFrom {
		return Flipped{}, &TransitionError{AccountID: req.AccountID, From: before.Status, To: req.To,
			Source: req.Source, Err: ErrStale, Detail: "expected " + string(req.ExpectFrom)}
	}
	if err := CheckTransition(req.AccountID, before.Status, req.To, req.Source, req.Copy); err != nil {
		return Flipped{}, err
	}

	now := s.clock.Now()
	after := before
	after.Status = req.To
	after.UpdatedAt = now
	after.LastError = ""
	if req.Copy != nil {
		after.LastError = req.Copy.Text
	}
	if req.Strikes != nil {
		after.Strikes = *req.Strikes
	}
	if req.To == StatusConnected {
		after.DisconnectedAt, after.DisconnectedBy, after.Strikes = nil, "", 0
	} else {
		after.DisconnectedBy = string(req.Source)
		if before.Status == StatusConnected || before.DisconnectedAt == nil {
			t := now
			after.DisconnectedAt = &t
		}
	}

	// The audit row is the flip: its insert trigger moves the account and
	// sets the disconnect markers exactly as computed above, or refuses
	// the row.
	var auditID int64
	if err := s.db.TxQueryRow(ctx, tx, insertAuditSQL,
		req.AccountID, string(before.Status), string(after.Status), req.Reason, string(req.Source),
		req.Actor, after.Strikes, now, db.NullIfEmpty(after.LastError)).Scan(&auditID); err != nil {
		return Flipped{}, fmt.Errorf("flipping account %s %s -> %s: %w", req.AccountID, before.Status, after.Status, err)
	}

	f := Flipped{Before: before, After: after, AuditID: auditID, Reason: req.Reason,
		Source: req.Source, Actor: req.Actor, At: now}
	if after.Status == StatusConnected {
		if err := s.runConfirmations(ctx, tx, req.AccountID, now); err != nil {
			return Flipped{}, err
		}
	}
	s.mu.RLock()
	consequences := s.consequences
	s.mu.RUnlock()
	for _, c := range consequences {
		if err := c.fn(ctx, tx, f); err != nil {
			return Flipped{}, fmt.Errorf("flip consequence %s for account %s: %w", c.name, req.AccountID, err)
		}
	}
	return f, nil
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

// lock reads the account and holds its row until the transaction ends.
func (s *Service) lock(ctx context.Context, tx *sql.Tx, accountID, workspaceID string) (Account, error) {
	args := []any{accountID}
	if workspaceID != "" {
		args = append(args, workspaceID)
	}
	a, err := ScanWith(s.db.TxQueryRow(ctx, tx, s.lockQuery(workspaceID != ""), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, &TransitionError{AccountID: accountID, Err: ErrNotFound}
	}
	if err != nil {
		return Account{}, fmt.Errorf("locking account %s: %w", accountID, err)
	}
	return a, nil
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

// UpdateSoft writes strikes and soft copy in the caller's transaction.
func (s *Service) UpdateSoft(ctx context.Context, tx *sql.Tx, u SoftUpdate) (Account, error) {
	a, err := s.lock(ctx, tx, u.AccountID, "")
	if err != nil {
		return Account{}, err
	}
	if u.ExpectStatus != "" && a.Status != u.ExpectStatus {
		return Account{}, &TransitionError{AccountID: u.AccountID, From: a.Status, To: a.Status,
			Err: ErrStale, Detail: "expected " + string(u.ExpectStatus)}
	}
	if u.Copy != nil && u.Copy.Terminal() && a.Status == StatusConnected {
		return Account{}, &TransitionError{AccountID: u.AccountID, From: a.Status, To: a.Status,
			Err: ErrCopyNotAllowed, Detail: "terminal copy cannot stand beside status connected; flip the account instead"}
	}
	if u.Strikes < 0 || u.Strikes > MaxStrikes {
		return Account{}, &TransitionError{AccountID: u.AccountID, From: a.Status, To: a.Status,
			Err: ErrInvalidRequest, Detail: fmt.Sprintf("strikes %d out of range", u.Strikes)}
	}
	now := s.clock.Now()
	a.LastError, a.Strikes, a.UpdatedAt = "", u.Strikes, now
	if u.Copy != nil {
		a.LastError = u.Copy.Text
	}
	if _, err := s.db.TxExec(ctx, tx, updateSoftSQL, u.AccountID, db.NullIfEmpty(a.LastError), a.Strikes, now); err != nil {
		return Account{}, fmt.Errorf("updating account %s: %w", u.AccountID, err)
	}
	return a, nil
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

// Audit returns an account's status history, oldest first.
func (s *Service) Audit(ctx context.Context, q db.Querier, accountID string) ([]AuditEntry, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT id, account_id, from_status, to_status, reason, source, actor, strikes, COALESCE(last_error, ''), created_at
		  FROM linkedin_account_status_audit WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("reading audit of account %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var from sql.NullString
		if err := rows.Scan(&e.ID, &e.AccountID, &from, &e.To, &e.Reason, &e.Source, &e.Actor, &e.Strikes, &e.LastError, &e.CreatedAt); err != nil {
			return nil, fmt.Errorf("reading audit of account %s: %w", accountID, err)
		}
		e.From = Status(from.String)
		e.CreatedAt = e.CreatedAt.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// StampDisconnectedAt gives a not-connected account that lacks one a
// disconnected_at (now) and cause. Only the repair needs it: every flip sets
// both itself.
func (s *Service) StampDisconnectedAt(ctx context.Context, tx *sql.Tx, accountID string, source Source) error {
	a, err := s.lock(ctx, tx, accountID, "")
	if err != nil {
		return err
	}
	if a.Status == StatusConnected || a.DisconnectedAt != nil {
		return nil
	}
	now := s.clock.Now()
	if _, err := tx.ExecContext(ctx,
		`UPDATE linkedin_accounts SET disconnected_at = $2, disconnected_by = COALESCE(disconnected_by, $3), updated_at = $2
		  WHERE id = $1 AND status <> 'connected' AND disconnected_at IS NULL`,
		accountID, now, string(source)); err != nil {
		return fmt.Errorf("stamping disconnected_at on account %s: %w", accountID, err)
	}
	return nil
}
