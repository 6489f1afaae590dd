// Package workspace owns workspaces, the tenants every account, campaign and
// token belongs to.
package workspace

import (
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/keel-outreach/keel/internal/db"
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
