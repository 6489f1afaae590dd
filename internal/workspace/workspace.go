// Package workspace owns workspaces, the tenants every account, campaign and
// token belongs to.
package workspace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
	"github.com/keel-outreach/keel/internal/text"
)

// Workspace is one tenant.
type Workspace struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// ErrNotFound: no workspace with that slug or id.
var ErrNotFound = errors.New("workspace not found")

// ErrExists: the slug is taken.
var ErrExists = errors.New("workspace slug already exists")

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidSlug reports whether slug is acceptable: lower-case letters, digits
// and dashes, not starting with a dash, at most 63 characters. The
// database's workspaces_slug_chk holds the same rule.
func ValidSlug(slug string) bool { return slugPattern.MatchString(slug) }

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

func scanOne(row *sql.Row, key string) (Workspace, error) {
	var w Workspace
	err := row.Scan(&w.ID, &w.Slug, &w.Name, &w.CreatedAt)
	if db.IsNoRows(err) {
		return Workspace{}, fmt.Errorf("workspace %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return Workspace{}, fmt.Errorf("reading workspace %q: %w", key, err)
	}
	w.CreatedAt = w.CreatedAt.UTC()
	return w, nil
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
