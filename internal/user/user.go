// Package user owns the people who sign in to Keel's web UI. Passwords are
// stored only as bcrypt hashes; the database refuses anything else.
package user

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
	"github.com/keel-outreach/keel/internal/text"
)

// Cost is the bcrypt cost of new password hashes: slow enough to make
// guessing expensive. It is a variable only so that test binaries can lower
// it before they start (a cost-12 hash takes seconds under the race
// detector); nothing in Keel changes it.
var Cost = 12

// dummyHash is a hash at Cost of nobody's password. Sign-ins for an email
// that matches no user compare against it, so their timing does not tell
// which emails exist.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("nobody's password"), Cost)
	if err != nil {
		panic(fmt.Sprintf("hashing the dummy password: %v", err))
	}
	return h
})

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
	if err := insert(ctx, q, u, string(hash)); err != nil {
		return User{}, err
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
		u, hash, err = byEmail(ctx, q, workspaceID, email)
	}
	if db.IsNoRows(err) {
		// Spend the same time as a wrong password, so timing does not tell
		// which emails exist.
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
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
