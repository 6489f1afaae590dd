// Package workspace owns workspaces, the tenants every account, campaign and
// token belongs to.
package workspace

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
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

// MaxRecontactCooloffDays bounds the re-contact cool-off in days; the
// database's workspaces_recontact_cooloff_days_chk holds the same range.
const MaxRecontactCooloffDays = 3650

// DefaultRecontactCooloffDays is a new workspace's re-contact cool-off.
const DefaultRecontactCooloffDays = 30

// Recontact is a workspace's re-contact cool-off
// (docs/contacts.md#recontact-cooloff): after a person's sequence ended
// without a reply they may be enrolled again once CooloffDays have passed
// since it ended, or never when Never is set (CooloffDays is then kept
// but unused).
type Recontact struct {
	CooloffDays int
	Never       bool
}

// Until says from when a person whose last sequence ended at ended may be
// enrolled again; ok is false when never.
func (r Recontact) Until(ended time.Time) (until time.Time, ok bool) {
	if r.Never {
		return time.Time{}, false
	}
	return ended.AddDate(0, 0, r.CooloffDays), true
}

// String is "never" or "<days>d".
func (r Recontact) String() string {
	if r.Never {
		return "never"
	}
	return fmt.Sprintf("%dd", r.CooloffDays)
}

// JSONValue is the setting as the API writes it: the number of days, or
// the string "never".
func (r Recontact) JSONValue() any {
	if r.Never {
		return "never"
	}
	return r.CooloffDays
}

// Settings is a workspace with its settings, as GET /api/v1/workspace
// answers (docs/surfaces.md#json-shapes).
type Settings struct {
	Workspace
	Recontact Recontact
}

// MarshalJSON writes the workspace's fields and recontact_cooloff_days
// (a number of days, or "never").
func (s Settings) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID                   string    `json:"id"`
		Slug                 string    `json:"slug"`
		Name                 string    `json:"name"`
		CreatedAt            time.Time `json:"created_at"`
		RecontactCooloffDays any       `json:"recontact_cooloff_days"`
	}{s.ID, s.Slug, s.Name, s.CreatedAt, s.Recontact.JSONValue()})
}

// ParseRecontact reads a cool-off as an operator writes it: "never", a
// number of days ("30"), or days with a d suffix ("30d"), 0 to
// MaxRecontactCooloffDays.
func ParseRecontact(s string) (Recontact, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "never" {
		return Recontact{CooloffDays: DefaultRecontactCooloffDays, Never: true}, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
	if err != nil || n < 0 || n > MaxRecontactCooloffDays {
		return Recontact{}, fmt.Errorf("re-contact cool-off %q: use a number of days from 0 to %d (e.g. 30d), or never", s, MaxRecontactCooloffDays)
	}
	return Recontact{CooloffDays: n}, nil
}
