package user

import (
	"context"
	"fmt"

	"github.com/keel-outreach/keel/internal/db"
)

// insert stores a new user with its password hash; a taken email is
// ErrExists.
func insert(ctx context.Context, q db.Querier, u User, hash string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO users (id, workspace_id, email, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
		u.ID, u.WorkspaceID, u.Email, hash, u.CreatedAt)
	if db.IsUniqueViolation(err) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("creating user: %w", err)
	}
	return nil
}

// byEmail reads a user and its password hash; no such user is an error
// for which db.IsNoRows holds.
func byEmail(ctx context.Context, q db.Querier, workspaceID, email string) (User, string, error) {
	var u User
	var hash string
	err := q.QueryRowContext(ctx, `SELECT id, workspace_id, email, password_hash, created_at FROM users WHERE workspace_id = $1 AND email = $2`,
		workspaceID, email).Scan(&u.ID, &u.WorkspaceID, &u.Email, &hash, &u.CreatedAt)
	return u, hash, err
}

// Count returns how many users exist, in every workspace.
func Count(ctx context.Context, q db.Querier) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting users: %w", err)
	}
	return n, nil
}
