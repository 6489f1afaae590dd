package workspace

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
	"github.com/keel-outreach/keel/internal/text"
)

// Create inserts a workspace.
func Create(ctx context.Context, q db.Querier, slug, name string, now time.Time) (Workspace, error) {
	if !ValidSlug(slug) {
		return Workspace{}, fmt.Errorf("invalid workspace slug %q: use lower-case letters, digits and dashes (at most 63)", slug)
	}
	w := Workspace{ID: id.New("ws"), Slug: slug, Name: name, CreatedAt: now}
	_, err := q.ExecContext(ctx,
		`INSERT INTO workspaces (id, slug, name, created_at) VALUES ($1, $2, $3, $4)`,
		w.ID, w.Slug, w.Name, w.CreatedAt)
	if db.IsUniqueViolation(err) {
		return Workspace{}, fmt.Errorf("creating workspace %q: %w", slug, ErrExists)
	}
	if err != nil {
		return Workspace{}, fmt.Errorf("creating workspace %q: %w", slug, err)
	}
	return w, nil
}

// BySlug reads a workspace by slug.
func BySlug(ctx context.Context, q db.Querier, slug string) (Workspace, error) {
	if !text.Valid(slug) {
		// No slug holds control characters; PostgreSQL would error on a NUL.
		return Workspace{}, fmt.Errorf("workspace %q: %w", slug, ErrNotFound)
	}
	return scanOne(q.QueryRowContext(ctx,
		`SELECT id, slug, name, created_at FROM workspaces WHERE slug = $1`, slug), slug)
}

// ByID reads a workspace by id.
func ByID(ctx context.Context, q db.Querier, wsID string) (Workspace, error) {
	return scanOne(q.QueryRowContext(ctx,
		`SELECT id, slug, name, created_at FROM workspaces WHERE id = $1`, wsID), wsID)
}

// List returns every workspace ordered by slug.
func List(ctx context.Context, q db.Querier) ([]Workspace, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, slug, name, created_at FROM workspaces ORDER BY slug`)
	if err != nil {
		return nil, fmt.Errorf("listing workspaces: %w", err)
	}
	defer rows.Close()
	var out []Workspace
	for rows.Next() {
		var w Workspace
		if err := rows.Scan(&w.ID, &w.Slug, &w.Name, &w.CreatedAt); err != nil {
			return nil, fmt.Errorf("listing workspaces: %w", err)
		}
		w.CreatedAt = w.CreatedAt.UTC()
		out = append(out, w)
	}
	return out, rows.Err()
}

// ReadSettings reads a workspace by id with its settings.
func ReadSettings(ctx context.Context, q db.Querier, wsID string) (Settings, error) {
	var s Settings
	err := q.QueryRowContext(ctx, `SELECT id, slug, name, created_at, recontact_cooloff_days, recontact_never
		FROM workspaces WHERE id = $1`, wsID).
		Scan(&s.ID, &s.Slug, &s.Name, &s.CreatedAt, &s.Recontact.CooloffDays, &s.Recontact.Never)
	if db.IsNoRows(err) {
		return Settings{}, fmt.Errorf("workspace %q: %w", wsID, ErrNotFound)
	}
	if err != nil {
		return Settings{}, fmt.Errorf("reading the settings of workspace %q: %w", wsID, err)
	}
	s.CreatedAt = s.CreatedAt.UTC()
	return s, nil
}

// ReadRecontact reads a workspace's re-contact cool-off
// (docs/contacts.md#recontact-cooloff).
func ReadRecontact(ctx context.Context, q db.Querier, wsID string) (Recontact, error) {
	s, err := ReadSettings(ctx, q, wsID)
	return s.Recontact, err
}

// SetRecontact stores a workspace's re-contact cool-off. With Never the
// stored number of days is kept as it was.
func SetRecontact(ctx context.Context, q db.Querier, wsID string, r Recontact) error {
	if !r.Never && (r.CooloffDays < 0 || r.CooloffDays > MaxRecontactCooloffDays) {
		return fmt.Errorf("re-contact cool-off of %d days: use 0 to %d", r.CooloffDays, MaxRecontactCooloffDays)
	}
	var (
		res sql.Result
		err error
	)
	if r.Never {
		res, err = q.ExecContext(ctx, `UPDATE workspaces SET recontact_never = $2 WHERE id = $1`, wsID, true)
	} else {
		res, err = q.ExecContext(ctx, `UPDATE workspaces SET recontact_never = $2, recontact_cooloff_days = $3 WHERE id = $1`,
			wsID, false, r.CooloffDays)
	}
	if err != nil {
		return fmt.Errorf("setting the re-contact cool-off of workspace %q: %w", wsID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("workspace %q: %w", wsID, ErrNotFound)
	}
	return nil
}
