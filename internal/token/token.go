// Package token issues and checks workspace API tokens. A token is shown
// once; only its SHA-256 hash is stored, so a database leak leaks no token.
// A token may carry an expiry, records when it was last used (to the
// minute), and can be revoked; revocation is final (the database refuses
// to clear it).
package token

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/role"
)

// Prefix starts every token, so leaked tokens are easy to recognise.
const Prefix = "keel_"

// LastUsedPrecision is how stale the stored last_used_at may get before a
// request rewrites it. Authentication is on every API request's path, and
// a write per request would serialise requests on SQLite and churn rows on
// PostgreSQL for a value people read to the day.
const LastUsedPrecision = time.Minute

// ErrInvalid: the token is unknown, malformed, revoked or expired. ErrRevoked
// and ErrExpired wrap it, so errors.Is(err, ErrInvalid) covers all three.
var ErrInvalid = errors.New("invalid API token")

// ErrRevoked: the token was revoked.
var ErrRevoked = fmt.Errorf("%w: token revoked", ErrInvalid)

// ErrExpired: the token's expiry has passed.
var ErrExpired = fmt.Errorf("%w: token expired", ErrInvalid)

// ErrNotFound: no such token (in that workspace).
var ErrNotFound = errors.New("token not found")

// Token is a stored token (without its secret or hash).
type Token struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	Name        string `json:"name"`
	// Role is what the token may do in its workspace (docs/teams.md#api-tokens).
	Role       role.Role  `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// State is "active", "expired" or "revoked" at now.
func (t Token) State(now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return "revoked"
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return "expired"
	}
	return "active"
}

// Hash is the stored form of a token.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// New describes a token to issue.
type New struct {
	WorkspaceID string
	// Name says what the token is for.
	Name string
	// ExpiresAt, when set, is when the token stops authenticating; it must
	// be after now.
	ExpiresAt *time.Time
	// Role is what the token may do; empty means role.TokenDefault.
	Role role.Role
}

// Create issues a token for a workspace that never expires and returns its
// secret, which is never stored or shown again.
func Create(ctx context.Context, q db.Querier, workspaceID, name string, now time.Time) (Token, string, error) {
	return Issue(ctx, q, New{WorkspaceID: workspaceID, Name: name}, now)
}

const columns = `id, workspace_id, name, role, created_at, last_used_at, expires_at, revoked_at`

func scan(row interface{ Scan(...any) error }) (Token, error) {
	var (
		t                    Token
		used, expires, revok sql.NullTime
	)
	var r string
	if err := row.Scan(&t.ID, &t.WorkspaceID, &t.Name, &r, &t.CreatedAt, &used, &expires, &revok); err != nil {
		return Token{}, err
	}
	t.Role = role.Role(r)
	t.CreatedAt = t.CreatedAt.UTC()
	t.LastUsedAt, t.ExpiresAt, t.RevokedAt = utcPtr(used), utcPtr(expires), utcPtr(revok)
	return t, nil
}

func utcPtr(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time.UTC()
	return &t
}

// Authenticate returns the token a secret belongs to, checked against the
// wall clock; AuthenticateAt takes the time from the caller.
func Authenticate(ctx context.Context, q db.Querier, secret string) (Token, error) {
	return AuthenticateAt(ctx, q, secret, clock.Real{}.Now())
}
