package user

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/role"
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

// insertMembership gives a user a role in a workspace; an existing
// membership is ErrExists.
func insertMembership(ctx context.Context, q db.Querier, userID, workspaceID string, r role.Role, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO memberships (user_id, workspace_id, role, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $4)`, userID, workspaceID, string(r), now)
	if db.IsUniqueViolation(err) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("adding membership: %w", err)
	}
	return nil
}

func updateRole(ctx context.Context, q db.Querier, userID, workspaceID string, r role.Role, now time.Time) error {
	res, err := q.ExecContext(ctx, `UPDATE memberships SET role = $3, updated_at = $4 WHERE user_id = $1 AND workspace_id = $2`,
		userID, workspaceID, string(r), now)
	if err != nil {
		return fmt.Errorf("changing role: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ErrNotFound
	}
	return nil
}

// lockOwners counts a workspace's owners, locking their memberships until
// the transaction ends (lock is the dialect's FOR UPDATE; SQLite's single
// writer serializes instead).
func lockOwners(ctx context.Context, q db.Querier, lock, workspaceID string) (int, error) {
	rows, err := q.QueryContext(ctx, `SELECT user_id FROM memberships WHERE workspace_id = $1 AND role = 'owner'`+lock, workspaceID)
	if err != nil {
		return 0, fmt.Errorf("reading the owners: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

func setHash(ctx context.Context, q db.Querier, userID, hash string) error {
	if _, err := q.ExecContext(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, userID, hash); err != nil {
		return fmt.Errorf("storing the new password: %w", err)
	}
	return nil
}

// byEmail reads the member of a workspace with an email, with the user's
// password hash and role there; no such member is an error for which
// db.IsNoRows holds.
func byEmail(ctx context.Context, q db.Querier, workspaceID, email string) (User, string, error) {
	var u User
	var hash, r string
	err := q.QueryRowContext(ctx, `SELECT u.id, m.workspace_id, u.email, m.role, u.password_hash, u.created_at
		FROM users u JOIN memberships m ON m.user_id = u.id
		WHERE m.workspace_id = $1 AND u.email = $2`,
		workspaceID, email).Scan(&u.ID, &u.WorkspaceID, &u.Email, &r, &hash, &u.CreatedAt)
	u.Role = role.Role(r)
	return u, hash, err
}

// usersByEmail lists every user with an email, whatever their workspaces.
func usersByEmail(ctx context.Context, q db.Querier, email string) ([]User, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, workspace_id, email, created_at FROM users WHERE email = $1 ORDER BY id`, email)
	if err != nil {
		return nil, fmt.Errorf("reading users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		if err := rows.Scan(&u.ID, &u.WorkspaceID, &u.Email, &u.CreatedAt); err != nil {
			return nil, fmt.Errorf("reading users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func countMembers(ctx context.Context, q db.Querier, workspaceID string) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM memberships WHERE workspace_id = $1`, workspaceID).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting members: %w", err)
	}
	return n, nil
}

func memberships(ctx context.Context, q db.Querier, userID string) ([]Membership, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.workspace_id, w.slug, m.role FROM memberships m
		JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = $1 ORDER BY w.slug`, userID)
	if err != nil {
		return nil, fmt.Errorf("listing memberships: %w", err)
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		var r string
		if err := rows.Scan(&m.WorkspaceID, &m.WorkspaceSlug, &r); err != nil {
			return nil, fmt.Errorf("listing memberships: %w", err)
		}
		m.Role = role.Role(r)
		out = append(out, m)
	}
	return out, rows.Err()
}

// inTx runs fn in a transaction: q's own when q is one, a new one when q
// is a database.
func inTx(ctx context.Context, q db.Querier, fn func(q db.Querier) error) error {
	sqlDB, ok := q.(*sql.DB)
	if !ok {
		return fn(q)
	}
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting a transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// Count returns how many users exist, in every workspace.
func Count(ctx context.Context, q db.Querier) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting users: %w", err)
	}
	return n, nil
}
