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
	"github.com/keel-outreach/keel/internal/role"
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

// ErrNotFound: no user with that email is a member of the workspace.
var ErrNotFound = errors.New("no user with that email in the workspace")

// ErrLastOwner: the change would leave the workspace without an owner, and
// with nobody who may manage its people (docs/teams.md#changing-a-role).
var ErrLastOwner = errors.New("the workspace's only owner cannot lose the role: make another member owner first")

// User is one person. WorkspaceID is the workspace the user is looked at
// in: the one they signed in to, or (from Create) the one they were created
// in; Role is their role there.
type User struct {
	ID          string
	WorkspaceID string
	Email       string
	Role        role.Role
	CreatedAt   time.Time
}

// Create adds a user with a password, after checking both, as an owner of
// the workspace (what every user was before roles existed; see Add for the
// choice of role and for emails that exist in another workspace).
func Create(ctx context.Context, q db.Querier, workspaceID, email, password string, now time.Time) (User, error) {
	a, err := Add(ctx, q, NewMember{WorkspaceID: workspaceID, Email: email, Password: password, Role: role.Owner}, now)
	return a.User, err
}

// NewMember describes a person to add to a workspace.
type NewMember struct {
	WorkspaceID string
	Email       string
	// Password is the new user's password; it is not used when the email
	// already belongs to a user of another workspace, who keeps theirs.
	Password string
	// Role in the workspace; empty means owner for the workspace's first
	// member and member otherwise (docs/teams.md#adding-people).
	Role role.Role
}

// Added says what Add did.
type Added struct {
	User User
	// Existing: the email belonged to a user of another workspace, who was
	// given a membership here and keeps their password.
	Existing bool
}

// Add makes a person a member of a workspace. A new email creates a user
// with the password; an email that belongs to a user of another workspace
// adds a membership for that user, whose password stays as it is
// (docs/teams.md#adding-people). An email that is already a member of the
// workspace is ErrExists.
func Add(ctx context.Context, q db.Querier, n NewMember, now time.Time) (Added, error) {
	email, err := checkEmail(n.Email)
	if err != nil {
		return Added{}, err
	}
	if n.Role != "" && !n.Role.Valid() {
		return Added{}, fmt.Errorf("unknown role %q: use owner, admin, member or viewer", n.Role)
	}
	var out Added
	err = inTx(ctx, q, func(q db.Querier) error {
		if _, _, err := byEmail(ctx, q, n.WorkspaceID, email); err == nil {
			return ErrExists
		} else if !db.IsNoRows(err) {
			return fmt.Errorf("reading user: %w", err)
		}
		r := n.Role
		if r == "" {
			members, err := countMembers(ctx, q, n.WorkspaceID)
			if err != nil {
				return err
			}
			r = role.Member
			if members == 0 {
				r = role.Owner
			}
		}
		others, err := usersByEmail(ctx, q, email)
		if err != nil {
			return err
		}
		switch len(others) {
		case 0:
			hash, err := hashPassword(n.Password)
			if err != nil {
				return err
			}
			out.User = User{ID: id.New("usr"), WorkspaceID: n.WorkspaceID, Email: email, CreatedAt: now}
			if err := insert(ctx, q, out.User, hash); err != nil {
				return err
			}
		case 1:
			out.User, out.Existing = others[0], true
			out.User.WorkspaceID = n.WorkspaceID
		default:
			return fmt.Errorf("%d users in different workspaces have the email %s; Keel cannot tell which one to add", len(others), email)
		}
		out.User.Role = r
		return insertMembership(ctx, q, out.User.ID, n.WorkspaceID, r, now)
	})
	if err != nil {
		return Added{}, err
	}
	return out, nil
}

func checkEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || !text.Valid(email) {
		return "", fmt.Errorf("invalid email %q", email)
	}
	return email, nil
}

func hashPassword(password string) (string, error) {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return "", fmt.Errorf("password too short: at least %d characters", MinPasswordLength)
	}
	if len(password) > 72 {
		return "", errors.New("password too long: at most 72 bytes")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), Cost)
	if err != nil {
		return "", fmt.Errorf("hashing password: %w", err)
	}
	return string(hash), nil
}

// ResetPassword replaces the password of the workspace's member with that
// email (in every workspace the user belongs to: a user has one password).
// Ending the user's sessions and clearing sign-in lockouts is the caller's
// part (docs/teams.md#resetting-a-password).
func ResetPassword(ctx context.Context, q db.Querier, workspaceID, email, password string) (User, error) {
	email, err := checkEmail(email)
	if err != nil {
		return User{}, err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return User{}, err
	}
	u, _, err := byEmail(ctx, q, workspaceID, email)
	if db.IsNoRows(err) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("reading user: %w", err)
	}
	if err := setHash(ctx, q, u.ID, hash); err != nil {
		return User{}, err
	}
	return u, nil
}

// Membership is a user's place in one workspace.
type Membership struct {
	WorkspaceID   string
	WorkspaceSlug string
	Role          role.Role
}

// Memberships lists a user's workspaces by slug.
func Memberships(ctx context.Context, q db.Querier, userID string) ([]Membership, error) {
	return memberships(ctx, q, userID)
}

// SetRole changes a member's role in a workspace; it takes effect on the
// member's next request (docs/teams.md#roles). No such membership is
// ErrNotFound.
func SetRole(ctx context.Context, q db.Querier, userID, workspaceID string, r role.Role, now time.Time) error {
	if !r.Valid() {
		return fmt.Errorf("unknown role %q: use owner, admin, member or viewer", r)
	}
	return updateRole(ctx, q, userID, workspaceID, r, now)
}

// ChangeRole gives the workspace's member with an email the role r and
// returns the member as they were. The workspace's owners are locked while
// it counts them, so two changes at once cannot demote its last two owners
// (ErrLastOwner). It takes effect on the member's next request
// (docs/teams.md#changing-a-role).
func ChangeRole(ctx context.Context, d *db.DB, workspaceID, email string, r role.Role, now time.Time) (User, error) {
	if !r.Valid() {
		return User{}, fmt.Errorf("unknown role %q: use owner, admin, member or viewer", r)
	}
	email, err := checkEmail(email)
	if err != nil {
		return User{}, err
	}
	var before User
	err = d.InTx(ctx, func(tx *sql.Tx) error {
		owners, err := lockOwners(ctx, tx, d.LockForUpdate(), workspaceID)
		if err != nil {
			return err
		}
		u, _, err := byEmail(ctx, tx, workspaceID, email)
		if db.IsNoRows(err) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("reading the member: %w", err)
		}
		before = u
		if u.Role == role.Owner && r != role.Owner && owners <= 1 {
			return ErrLastOwner
		}
		return updateRole(ctx, tx, u.ID, workspaceID, r, now)
	})
	return before, err
}

// Authenticate checks an email and password in a workspace; the user must
// be a member of it, and comes back with their role there.
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
