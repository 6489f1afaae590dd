package token_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/workspace"
)

type env struct {
	ctx   context.Context
	db    *db.DB
	clock *clock.Fake
	ws    workspace.Workspace
}

func setup(t *testing.T, d *db.DB) env {
	t.Helper()
	e := env{ctx: context.Background(), db: d, clock: clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))}
	ws, err := workspace.Create(e.ctx, d.SQL, "acme", "", e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.ws = ws
	return e
}

func (e env) lastUsed(t *testing.T, id string) *time.Time {
	t.Helper()
	tok, err := token.Get(e.ctx, e.db.SQL, id, "")
	if err != nil {
		t.Fatal(err)
	}
	return tok.LastUsedAt
}

func TestRevokedTokenNoLongerAuthenticates(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		tok, secret, err := token.Create(e.ctx, d.SQL, e.ws.ID, "ci", e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := token.AuthenticateAt(e.ctx, d.SQL, secret, e.clock.Now()); err != nil {
			t.Fatalf("a fresh token must authenticate: %v", err)
		}
		other, _ := workspace.Create(e.ctx, d.SQL, "other", "", e.clock.Now())
		if _, err := token.Revoke(e.ctx, d.SQL, tok.ID, other.ID, e.clock.Now()); !errors.Is(err, token.ErrNotFound) {
			t.Fatalf("another workspace revoked our token: %v", err)
		}
		e.clock.Advance(time.Second)
		got, err := token.Revoke(e.ctx, d.SQL, tok.ID, e.ws.ID, e.clock.Now())
		if err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(e.clock.Now()) {
			t.Fatalf("revoke: %+v %v", got, err)
		}
		_, err = token.AuthenticateAt(e.ctx, d.SQL, secret, e.clock.Now())
		if !errors.Is(err, token.ErrRevoked) || !errors.Is(err, token.ErrInvalid) {
			t.Fatalf("a revoked token authenticated: %v", err)
		}
		// Revoking again changes nothing.
		e.clock.Advance(time.Hour)
		again, err := token.Revoke(e.ctx, d.SQL, tok.ID, "", e.clock.Now())
		if err != nil || !again.RevokedAt.Equal(*got.RevokedAt) {
			t.Fatalf("second revoke: %+v %v", again, err)
		}
		if _, err := token.Revoke(e.ctx, d.SQL, "tok_nope", "", e.clock.Now()); !errors.Is(err, token.ErrNotFound) {
			t.Fatalf("unknown token: %v", err)
		}
		// The database keeps revocation final against raw SQL.
		for _, q := range []string{
			`UPDATE api_tokens SET revoked_at = NULL WHERE id = $1`,
			`UPDATE api_tokens SET revoked_at = created_at WHERE id = $1`,
		} {
			_, err := d.SQL.ExecContext(e.ctx, q, tok.ID)
			if !db.ViolatesConstraint(err, "api_tokens_revocation_final") {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if _, err := token.AuthenticateAt(e.ctx, d.SQL, secret, e.clock.Now()); !errors.Is(err, token.ErrRevoked) {
			t.Fatalf("after raw SQL: %v", err)
		}
	})
}

func TestExpiredTokenNoLongerAuthenticates(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		exp := e.clock.Now().Add(90 * 24 * time.Hour)
		tok, secret, err := token.Issue(e.ctx, d.SQL, token.New{WorkspaceID: e.ws.ID, Name: "ci", ExpiresAt: &exp}, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(exp) {
			t.Fatalf("expiry = %v", tok.ExpiresAt)
		}
		e.clock.Set(exp.Add(-time.Microsecond))
		if _, err := token.AuthenticateAt(e.ctx, d.SQL, secret, e.clock.Now()); err != nil {
			t.Fatalf("a token just before its expiry must authenticate: %v", err)
		}
		e.clock.Set(exp)
		if _, err := token.AuthenticateAt(e.ctx, d.SQL, secret, e.clock.Now()); !errors.Is(err, token.ErrExpired) {
			t.Fatalf("an expired token authenticated: %v", err)
		}
		past := e.clock.Now()
		if _, _, err := token.Issue(e.ctx, d.SQL, token.New{WorkspaceID: e.ws.ID, ExpiresAt: &past}, e.clock.Now()); err == nil {
			t.Fatal("a token that expires when it is created was issued")
		}
		// The database refuses an expiry that is not after creation.
		_, err = d.SQL.ExecContext(e.ctx, `UPDATE api_tokens SET expires_at = created_at WHERE id = $1`, tok.ID)
		if !db.ViolatesConstraint(err, "api_tokens_expiry_chk") {
			t.Fatalf("raw expiry at creation: %v", err)
		}
		_, err = d.SQL.ExecContext(e.ctx, `INSERT INTO api_tokens (id, workspace_id, token_hash, created_at, expires_at)
			VALUES ('tok_raw', $1, $2, $3, $3)`, e.ws.ID, strings.Repeat("a", 64), e.clock.Now())
		if !db.ViolatesConstraint(err, "api_tokens_expiry_chk") {
			t.Fatalf("raw insert with expiry at creation: %v", err)
		}
	})
}

func TestLastUsedIsRecordedAtMostOncePerMinute(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		tok, secret, err := token.Create(e.ctx, d.SQL, e.ws.ID, "ci", e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got := e.lastUsed(t, tok.ID); got != nil {
			t.Fatalf("an unused token has last_used_at %v", got)
		}
		first := e.clock.Advance(time.Second)
		if _, err := token.AuthenticateAt(e.ctx, d.SQL, secret, first); err != nil {
			t.Fatal(err)
		}
		if got := e.lastUsed(t, tok.ID); got == nil || !got.Equal(first) {
			t.Fatalf("last_used_at = %v, want %v", got, first)
		}
		// Within the minute: no write.
		e.clock.Advance(59 * time.Second)
		if _, err := token.AuthenticateAt(e.ctx, d.SQL, secret, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if got := e.lastUsed(t, tok.ID); !got.Equal(first) {
			t.Fatalf("last_used_at rewritten within the minute: %v", got)
		}
		// A minute after the stored value: written again.
		later := e.clock.Advance(time.Second)
		if _, err := token.AuthenticateAt(e.ctx, d.SQL, secret, later); err != nil {
			t.Fatal(err)
		}
		if got := e.lastUsed(t, tok.ID); !got.Equal(later) {
			t.Fatalf("last_used_at = %v, want %v", got, later)
		}
	})
}

func TestListNeverShowsSecretOrHash(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		_, s1, _ := token.Create(e.ctx, d.SQL, e.ws.ID, "one", e.clock.Now())
		e.clock.Advance(time.Second)
		_, s2, _ := token.Create(e.ctx, d.SQL, e.ws.ID, "two", e.clock.Now())
		other, _ := workspace.Create(e.ctx, d.SQL, "other", "", e.clock.Now())
		_, _, _ = token.Create(e.ctx, d.SQL, other.ID, "theirs", e.clock.Now())
		list, err := token.List(e.ctx, d.SQL, e.ws.ID)
		if err != nil || len(list) != 2 || list[0].Name != "two" || list[1].Name != "one" {
			t.Fatalf("list: %+v %v", list, err)
		}
		b, _ := json.Marshal(list)
		for _, s := range []string{s1, s2, token.Hash(s1), token.Hash(s2)} {
			if strings.Contains(string(b), s) {
				t.Fatalf("the list carries a secret or hash: %s", b)
			}
		}
	})
}
