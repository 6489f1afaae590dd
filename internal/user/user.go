// Package user owns the people who sign in to Keel's web UI. Passwords are
// stored only as bcrypt hashes; the database refuses anything else.
package user

import (
	"errors"
	"time"
)

// Cost is the bcrypt cost: slow enough to make guessing expensive.
const Cost = 12

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

// ErrExists: a user with that email is already in the workspace.
var ErrExists = errors.New("a user with that email already exists in the workspace")

// User is one person.
type User struct {
	ID          string
	WorkspaceID string
	Email       string
	CreatedAt   time.Time
}
