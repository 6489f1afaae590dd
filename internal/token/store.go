package token

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
	"github.com/keel-outreach/keel/internal/role"
)

// Issue issues a token as n describes and returns its secret, which is
// never stored or shown again.
func Issue(ctx context.Context, q db.Querier, n New, now time.Time) (Token, string, error) {
	if n.ExpiresAt != nil && !n.ExpiresAt.After(now) {
		return Token{}, "", errors.New("creating token: the expiry must be in the future")
	}
	if n.Role == "" {
		n.Role = role.TokenDefault
	}
	if !n.Role.Valid() {
		return Token{}, "", fmt.Errorf("creating token: unknown role %q: use owner, admin, member or viewer", n.Role)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Token{}, "", fmt.Errorf("creating token: %w", err)
	}
	secret := Prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	t := Token{ID: id.New("tok"), WorkspaceID: n.WorkspaceID, Name: n.Name, Role: n.Role, CreatedAt: now}
	var expires any
	if n.ExpiresAt != nil {
		e := clock.Normalize(*n.ExpiresAt)
		t.ExpiresAt, expires = &e, e
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO api_tokens (id, workspace_id, token_hash, name, role, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, t.ID, n.WorkspaceID, Hash(secret), n.Name, string(n.Role), now, expires); err != nil {
		return Token{}, "", fmt.Errorf("creating token: %w", err)
	}
	return t, secret, nil
}

// AuthenticateAt returns the token a secret belongs to at now: ErrRevoked
// or ErrExpired for a token that no longer authenticates, ErrInvalid for
// anything else that is not a token. It records the use when the stored
// last use is older than LastUsedPrecision. The lookup is by hash, so
// timing reveals nothing about stored secrets.
func AuthenticateAt(ctx context.Context, q db.Querier, secret string, now time.Time) (Token, error) {
	if !strings.HasPrefix(secret, Prefix) || len(secret) > 200 {
		return Token{}, ErrInvalid
	}
	t, err := scan(q.QueryRowContext(ctx, `SELECT `+columns+` FROM api_tokens WHERE token_hash = $1`, Hash(secret)))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrInvalid
	}
	if err != nil {
		return Token{}, fmt.Errorf("checking token: %w", err)
	}
	switch t.State(now) {
	case "revoked":
		return Token{}, ErrRevoked
	case "expired":
		return Token{}, ErrExpired
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= LastUsedPrecision {
		// The condition repeats the check so that concurrent requests of
		// one token write at most once per interval, and never backwards.
		if _, err := q.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $2
			WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)`,
			t.ID, now, now.Add(-LastUsedPrecision)); err != nil {
			return Token{}, fmt.Errorf("recording the use of token %s: %w", t.ID, err)
		}
		t.LastUsedAt = &now
	}
	return t, nil
}

// List returns a workspace's tokens, newest first, revoked ones included.
func List(ctx context.Context, q db.Querier, workspaceID string) ([]Token, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+columns+` FROM api_tokens WHERE workspace_id = $1
		ORDER BY created_at DESC, id DESC`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("listing tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Get reads one token; workspaceID, when set, refuses other workspaces'
// tokens with ErrNotFound.
func Get(ctx context.Context, q db.Querier, tokenID, workspaceID string) (Token, error) {
	query := `SELECT ` + columns + ` FROM api_tokens WHERE id = $1`
	args := []any{tokenID}
	if workspaceID != "" {
		query += ` AND workspace_id = $2`
		args = append(args, workspaceID)
	}
	t, err := scan(q.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrNotFound
	}
	if err != nil {
		return Token{}, fmt.Errorf("reading token %s: %w", tokenID, err)
	}
	return t, nil
}

// Revoke stops a token from authenticating, from now on and for good.
// workspaceID, when set, refuses other workspaces' tokens with ErrNotFound.
// Revoking a revoked token changes nothing and returns it as it stands.
func Revoke(ctx context.Context, q db.Querier, tokenID, workspaceID string, now time.Time) (Token, error) {
	query := `UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`
	args := []any{tokenID, now}
	if workspaceID != "" {
		query += ` AND workspace_id = $3`
		args = append(args, workspaceID)
	}
	t, err := scan(q.QueryRowContext(ctx, query+` RETURNING `+columns, args...))
	if errors.Is(err, sql.ErrNoRows) {
		// Unknown, another workspace's, or already revoked.
		return Get(ctx, q, tokenID, workspaceID)
	}
	if err != nil {
		return Token{}, fmt.Errorf("revoking token %s: %w", tokenID, err)
	}
	return t, nil
}
