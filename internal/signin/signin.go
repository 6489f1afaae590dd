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
	"encoding/hex"
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

// Succeeded clears the account's failures, this attempt's included.
func (a *Attempt) Succeeded(ctx context.Context) error {
	if _, err := Unlock(ctx, a.d.SQL, a.accountKey); err != nil {
		return err
	}
	return nil
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
