package user

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
	"github.com/keel-outreach/keel/internal/text"
	"golang.org/x/crypto/bcrypt"
)

// Create adds a user with a password, after checking both.
func Create(ctx context.Context, q db.Querier, workspaceID, email, password string, now time.Time) (User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		return User{}, fmt.Errorf("invalid email %q", email)
	}
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return User{}, fmt.Errorf("password too short: at least %d characters", MinPasswordLength)
	}
	if len(password) > 72 {
		return User{}, errors.New("password too long: at most 72 bytes")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), Cost)
	if err != nil {
		return User{}, fmt.Errorf("hashing password: %w", err)
	}
	u := User{ID: id.New("usr"), WorkspaceID: workspaceID, Email: email, CreatedAt: now}
	_, err = q.ExecContext(ctx, `INSERT INTO users (id, workspace_id, email, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
		u.ID, workspaceID, email, string(hash), now)
	if db.IsUniqueViolation(err) {
		return User{}, ErrExists
	}
	if err != nil {
		return User{}, fmt.Errorf("creating user: %w", err)
	}
	return u, nil
}

// Authenticate checks an email and password in a workspace.
func Authenticate(ctx context.Context, q db.Querier, workspaceID, email, password string) (User, error) {
	var u User
	var hash string
	email = strings.ToLower(strings.TrimSpace(email))
	// An email with control characters matches no user (and PostgreSQL
	// would error on a NUL), so it takes the wrong-password path.
	err := sql.ErrNoRows
	if text.Valid(email) && text.Valid(workspaceID) {
		err = q.QueryRowContext(ctx, `SELECT id, workspace_id, email, password_hash, created_at FROM users WHERE workspace_id = $1 AND email = $2`,
			workspaceID, email).Scan(&u.ID, &u.WorkspaceID, &u.Email, &hash, &u.CreatedAt)
	}
	if db.IsNoRows(err) {
		// Spend the same time as a wrong password, so timing does not tell
		// which emails exist.
		_ = bcrypt.CompareHashAndPassword([]byte("$2a$12$C6UzMDM.H6dfI/f/IKcEeO7U6Z1j1o4bS8F3M5r5XbG9Zq6dQJ1eK"), []byte(password))
		return User{}, errors.New("wrong email or password")
	}
	if err != nil {
		return User{}, fmt.Errorf("reading user: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return User{}, errors.New("wrong email or password")
	}
	return u, nil
}

// Count returns how many users exist, in every workspace.
func Count(ctx context.Context, q db.Querier) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting users: %w", err)
	}
	return n, nil
}
