package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/role"
)

// create starts a session (anonymous when seed.UserID is empty), sweeping
// expired ones on the way.
func (st *sessionStore) create(ctx context.Context, seed session) (*session, error) {
	sid, err := randomToken()
	if err != nil {
		return nil, err
	}
	tok, err := randomToken()
	if err != nil {
		return nil, err
	}
	now := st.clock.Now()
	s := seed
	s.ID, s.CSRF, s.created, s.lastSeen = sid, tok, now, now
	if _, err := st.db.SQL.ExecContext(ctx, `DELETE FROM web_sessions WHERE expires_at <= $1`, now); err != nil {
		return nil, fmt.Errorf("sweeping expired sessions: %w", err)
	}
	if _, err := st.db.SQL.ExecContext(ctx, `INSERT INTO web_sessions
		(id_hash, user_id, workspace_id, csrf, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $5, $6)`, hashID(sid), db.NullIfEmpty(s.UserID), db.NullIfEmpty(s.WorkspaceID),
		tok, now, expiry(now, now, s.UserID != "")); err != nil {
		return nil, fmt.Errorf("storing a session: %w", err)
	}
	return &s, nil
}

// get returns a live session and extends it; expired sessions are deleted
// and refused.
func (st *sessionStore) get(ctx context.Context, sid string) (*session, error) {
	var (
		s                            session
		userID, workspaceID, flash   sql.NullString
		email, slug, roleName        sql.NullString
		created, lastSeen, expiresAt db.NullTime
	)
	h := hashID(sid)
	// The role is read on every request, not kept in the session, so a
	// change of role takes effect on the next request on every replica.
	err := st.db.SQL.QueryRowContext(ctx, `SELECT s.csrf, s.flash, s.user_id, s.workspace_id, u.email, w.slug, m.role,
			s.created_at, s.last_seen_at, s.expires_at
		FROM web_sessions s
		LEFT JOIN users u ON u.id = s.user_id
		LEFT JOIN workspaces w ON w.id = s.workspace_id
		LEFT JOIN memberships m ON m.user_id = s.user_id AND m.workspace_id = s.workspace_id
		WHERE s.id_hash = $1`, h).Scan(&s.CSRF, &flash, &userID, &workspaceID, &email, &slug, &roleName,
		&created, &lastSeen, &expiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading a session: %w", err)
	}
	now := st.clock.Now()
	if !now.Before(expiresAt.Time) {
		if err := st.delete(ctx, sid); err != nil {
			return nil, err
		}
		return nil, nil
	}
	s.ID, s.Flash, s.UserID, s.WorkspaceID = sid, flash.String, userID.String, workspaceID.String
	s.Email, s.WorkspaceSlug, s.created, s.lastSeen = email.String, slug.String, created.Time, lastSeen.Time
	s.Role = role.Role(roleName.String)
	if s.UserID != "" && now.Sub(s.lastSeen) >= touchEvery {
		if _, err := st.db.SQL.ExecContext(ctx, `UPDATE web_sessions SET last_seen_at = $2, expires_at = $3
			WHERE id_hash = $1`, h, now, expiry(s.created, now, true)); err != nil {
			return nil, fmt.Errorf("extending a session: %w", err)
		}
		s.lastSeen = now
	}
	return &s, nil
}

func (st *sessionStore) delete(ctx context.Context, sid string) error {
	if _, err := st.db.SQL.ExecContext(ctx, `DELETE FROM web_sessions WHERE id_hash = $1`, hashID(sid)); err != nil {
		return fmt.Errorf("deleting a session: %w", err)
	}
	return nil
}

// switchWorkspace moves a signed-in session to another of its user's
// workspaces. The foreign key to memberships refuses a workspace the user
// is not a member of; that is ErrNotMember.
func (st *sessionStore) switchWorkspace(ctx context.Context, sid, userID, workspaceID string) error {
	res, err := st.db.SQL.ExecContext(ctx, `UPDATE web_sessions SET workspace_id = $3
		WHERE id_hash = $1 AND user_id = $2
		AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = $2 AND m.workspace_id = $3)`,
		hashID(sid), userID, workspaceID)
	if err != nil {
		return fmt.Errorf("switching workspace: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return errNotMember
	}
	return nil
}

// setFlash stores a one-time message shown on the next page.
func (st *sessionStore) setFlash(ctx context.Context, sid, msg string) error {
	if _, err := st.db.SQL.ExecContext(ctx, `UPDATE web_sessions SET flash = $2 WHERE id_hash = $1`,
		hashID(sid), msg); err != nil {
		return fmt.Errorf("storing a message for the next page: %w", err)
	}
	return nil
}

// clearFlash removes a message once shown. Only that message is cleared, so
// one set meanwhile by another request is kept for the next page.
func (st *sessionStore) clearFlash(ctx context.Context, sid, msg string) error {
	if _, err := st.db.SQL.ExecContext(ctx, `UPDATE web_sessions SET flash = NULL WHERE id_hash = $1 AND flash = $2`,
		hashID(sid), msg); err != nil {
		return fmt.Errorf("clearing a shown message: %w", err)
	}
	return nil
}

// EndUserSessions signs a user out everywhere, in every workspace and on
// every replica (their sessions live in the database); it returns how many
// sessions ended. A password reset calls it (docs/teams.md#resetting-a-password).
func EndUserSessions(ctx context.Context, q db.Querier, userID string) (int64, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM web_sessions WHERE user_id = $1`, userID)
	if err != nil {
		return 0, fmt.Errorf("ending the sessions of user %s: %w", userID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("ending the sessions of user %s: %w", userID, err)
	}
	return n, nil
}
