package db

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ViolatesConstraint reports whether err is a database refusal that names
// the given constraint (or trigger rule). Both engines put the name in their
// message: PostgreSQL in the error's constraint field and text, SQLite in
// "CHECK constraint failed: <name>".
func ViolatesConstraint(err error, name string) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.ConstraintName == name {
		return true
	}
	return strings.Contains(err.Error(), name)
}

// IsUniqueViolation reports whether err is a unique-index refusal.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}
