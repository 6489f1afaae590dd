// Package token issues and checks workspace API tokens. A token is shown
// once; only its SHA-256 hash is stored, so a database leak leaks no token.
package token

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
)

// Prefix starts every token, so leaked tokens are easy to recognise.
const Prefix = "keel_"

// ErrInvalid: the token is unknown, malformed or revoked.
var ErrInvalid = errors.New("invalid API token")

// Token is a stored token (without its secret).
type Token struct {
	ID          string
	WorkspaceID string
	Name        string
	CreatedAt   time.Time
}

// Hash is the stored form of a token.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Create issues a token for a workspace and returns its secret, which is
// never stored or shown again.
func Create(ctx context.Context, q db.Querier, workspaceID, name string, now time.Time) (Token, string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Token{}, "", fmt.Errorf("creating token: %w", err)
	}
	secret := Prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	t := Token{ID: id.New("tok"), WorkspaceID: workspaceID, Name: name, CreatedAt: now}
	if _, err := q.ExecContext(ctx, `INSERT INTO api_tokens (id, workspace_id, token_hash, name, created_at)
		VALUES ($1, $2, $3, $4, $5)`, t.ID, workspaceID, Hash(secret), name, now); err != nil {
		return Token{}, "", fmt.Errorf("creating token: %w", err)
	}
	return t, secret, nil
}

// Authenticate returns the token a secret belongs to. The lookup is by hash,
// so timing reveals nothing about stored secrets.
func Authenticate(ctx context.Context, q db.Querier, secret string) (Token, error) {
	if !strings.HasPrefix(secret, Prefix) || len(secret) > 200 {
		return Token{}, ErrInvalid
	}
	var t Token
	err := q.QueryRowContext(ctx, `SELECT id, workspace_id, name, created_at FROM api_tokens
		WHERE token_hash = $1 AND revoked_at IS NULL`, Hash(secret)).Scan(&t.ID, &t.WorkspaceID, &t.Name, &t.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrInvalid
	}
	if err != nil {
		return Token{}, fmt.Errorf("checking token: %w", err)
	}
	return t, nil
}
