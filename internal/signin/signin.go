// Package signin limits failed web UI sign-ins, in the database so that
// every process counts into the same table and a restart forgets nothing.
//
// Two limits apply within a sliding Window: AccountFailures failures for one
// account (workspace slug and email, as typed) lock that account, and
// SourceFailures failures from one client address, across any emails, lock
// that address. Attempts on accounts that do not exist count exactly like
// wrong passwords, so the answers reveal nothing about which accounts exist.
//
// Each attempt first reserves a row and then counts the rows in its window,
// so concurrent attempts (on one process or several) can never check more
// passwords than the limit allows: the last of them to be written sees all
// the others. A failed check keeps its row; a successful one clears the
// account's rows.
package signin

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/db"
)

// Limits on failed sign-ins.
const (
	// AccountFailures failed sign-ins for one account within Window lock it.
	AccountFailures = 5
	// SourceFailures failed sign-ins from one address within Window, across
	// any emails, lock that address.
	SourceFailures = 20
	// Window is how long a failure counts.
	Window = 15 * time.Minute
)

// Scope says which limit refused an attempt.
type Scope string

// The limits an attempt can run into.
const (
	ScopeAccount Scope = "account"
	ScopeSource  Scope = "source"
)

// LockedError refuses an attempt while an account or address is locked.
type LockedError struct {
	Scope Scope
	// Until is when the window frees enough to try again.
	Until time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("sign-in locked (%s) until %s", e.Scope, e.Until.UTC().Format(time.RFC3339))
}

// AccountKey is the stored form of an account: a hash of the workspace slug
// and email, trimmed and lower-cased as sign-in reads them.
func AccountKey(workspaceSlug, email string) string {
	norm := strings.ToLower(strings.TrimSpace(workspaceSlug)) + "\x00" + strings.ToLower(strings.TrimSpace(email))
	sum := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(sum[:])
}

// Source turns a request's remote address ("host:port") into the address
// limits count by. An IPv6 client is counted by its /64, which one client
// usually holds whole.
func Source(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		if host == "" {
			return "unknown"
		}
		if len(host) > 64 {
			host = host[:64]
		}
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// Attempt is a reserved sign-in attempt. Exactly one of Succeeded or Failed
// should follow; if neither does (a crash), it stays counted as a failure.
type Attempt struct {
	d          *db.DB
	id         int64
	accountKey string
}

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

// Succeeded clears the account's failures, this attempt's included.
func (a *Attempt) Succeeded(ctx context.Context) error {
	if _, err := Unlock(ctx, a.d.SQL, a.accountKey); err != nil {
		return err
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

// checkMode says whether the attempt being checked is already written.
type checkMode int

const (
	// atLimit: a new attempt would be one too many.
	atLimit checkMode = iota
	// overLimit: the attempt is written; it is one too many when the count
	// passes the limit.
	overLimit
)

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
