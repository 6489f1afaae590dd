package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/role"
	"github.com/keel-outreach/keel/internal/user"
)

// SessionTTL is how long a signed-in session lasts without use.
const SessionTTL = 12 * time.Hour

// SessionMaxAge bounds a session however often it is used.
const SessionMaxAge = 7 * 24 * time.Hour

// anonymousTTL is the life of a sign-in form's session: long enough to fill
// in the form, short enough that unused ones are swept soon.
const anonymousTTL = time.Hour

// touchEvery spares a write per page view: a session's expiry moves only
// when it was last extended this long ago.
const touchEvery = time.Minute

// session is one browser's state. Anonymous sessions (UserID empty) exist
// so that the sign-in form has a CSRF token too. ID is the cookie value; the
// database holds only its hash.
type session struct {
	ID            string
	CSRF          string
	UserID        string
	Email         string
	WorkspaceID   string
	WorkspaceSlug string
	// Role is the user's role in the session's workspace, read afresh on
	// every request (docs/teams.md#roles).
	Role role.Role
	// Memberships lists the user's workspaces, for the switcher; loaded
	// for pages (GET) only.
	Memberships []user.Membership
	Flash       string
	created     time.Time
	lastSeen    time.Time
}

// sessionStore keeps sessions in the web_sessions table, so a restart keeps
// people signed in and every replica on the database shares them.
type sessionStore struct {
	db    *db.DB
	clock clock.Clock
}

func newSessionStore(d *db.DB, c clock.Clock) *sessionStore {
	return &sessionStore{db: d, clock: c}
}

func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// hashID is the stored form of a session id: a leaked table signs no one in.
func hashID(sid string) string {
	sum := sha256.Sum256([]byte(sid))
	return hex.EncodeToString(sum[:])
}

// expiry is when a session seen at now ends.
func expiry(created, now time.Time, signedIn bool) time.Time {
	if !signedIn {
		return created.Add(anonymousTTL)
	}
	end := now.Add(SessionTTL)
	if limit := created.Add(SessionMaxAge); end.After(limit) {
		end = limit
	}
	return end
}
