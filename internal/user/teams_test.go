package user

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/role"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestMembershipsRefuseBadRolesAndDuplicates tries to break the
// memberships table with raw SQL: a role outside the four, and a second
// membership of one user in one workspace.
func TestMembershipsRefuseBadRolesAndDuplicates(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		ws, err := workspace.Create(ctx, d.SQL, "acme", "", now)
		if err != nil {
			t.Fatal(err)
		}
		u, err := Create(ctx, d.SQL, ws.ID, "ada@example.com", "a long enough password", now)
		if err != nil {
			t.Fatal(err)
		}
		other, err := workspace.Create(ctx, d.SQL, "beta", "", now)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("a role outside the four is refused", func(t *testing.T) {
			for _, bad := range []string{"root", "", "Owner"} {
				_, err := d.SQL.ExecContext(ctx, `INSERT INTO memberships (user_id, workspace_id, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
					u.ID, other.ID, bad, now)
				if !db.ViolatesConstraint(err, "memberships_role_chk") {
					t.Fatalf("role %q: %v", bad, err)
				}
			}
			_, err := d.SQL.ExecContext(ctx, `UPDATE memberships SET role = 'superuser' WHERE user_id = $1`, u.ID)
			if !db.ViolatesConstraint(err, "memberships_role_chk") {
				t.Fatalf("updating to a bad role: %v", err)
			}
		})
		t.Run("one membership per user and workspace", func(t *testing.T) {
			_, err := d.SQL.ExecContext(ctx, `INSERT INTO memberships (user_id, workspace_id, role, created_at, updated_at) VALUES ($1, $2, 'viewer', $3, $3)`,
				u.ID, ws.ID, now)
			if !db.IsUniqueViolation(err) {
				t.Fatalf("a second membership in one workspace: %v", err)
			}
		})
		t.Run("a token's role is one of the four", func(t *testing.T) {
			_, err := d.SQL.ExecContext(ctx, `INSERT INTO api_tokens (id, workspace_id, token_hash, name, role, created_at)
				VALUES ('tok_x', $1, $2, '', 'root', $3)`, ws.ID, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", now)
			if !db.ViolatesConstraint(err, "api_tokens_role_chk") {
				t.Fatalf("a token with a bad role: %v", err)
			}
		})
		t.Run("a session names a membership", func(t *testing.T) {
			_, err := d.SQL.ExecContext(ctx, `INSERT INTO web_sessions (id_hash, user_id, workspace_id, csrf, created_at, last_seen_at, expires_at)
				VALUES ($1, $2, $3, $4, $5, $5, $6)`, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
				u.ID, other.ID, "0123456789abcdef0123456789abcdef0123456789abc", now, now.Add(time.Hour))
			if err == nil {
				t.Fatal("a session in a workspace the user is not a member of was stored")
			}
		})
	})
}

func TestAddingPeople(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		acme, err := workspace.Create(ctx, d.SQL, "acme", "", now)
		if err != nil {
			t.Fatal(err)
		}
		beta, err := workspace.Create(ctx, d.SQL, "beta", "", now)
		if err != nil {
			t.Fatal(err)
		}
		add := func(ws, email, password string, r role.Role) (Added, error) {
			return Add(ctx, d.SQL, NewMember{WorkspaceID: ws, Email: email, Password: password, Role: r}, now)
		}
		first, err := add(acme.ID, "ada@example.com", "a long enough password", "")
		if err != nil || first.User.Role != role.Owner || first.Existing {
			t.Fatalf("the first user of a workspace: %+v %v", first, err)
		}
		second, err := add(acme.ID, "bob@example.com", "another long password", "")
		if err != nil || second.User.Role != role.Member {
			t.Fatalf("the second user of a workspace: %+v %v", second, err)
		}
		t.Run("an email already in the workspace is refused", func(t *testing.T) {
			if _, err := add(acme.ID, "ADA@example.com", "a long enough password", role.Viewer); !errors.Is(err, ErrExists) {
				t.Fatalf("%v", err)
			}
		})
		t.Run("an email of another workspace gains a membership and keeps its password", func(t *testing.T) {
			a, err := add(beta.ID, "ada@example.com", "", role.Viewer)
			if err != nil || !a.Existing || a.User.ID != first.User.ID || a.User.Role != role.Viewer {
				t.Fatalf("%+v %v", a, err)
			}
			u, err := Authenticate(ctx, d.SQL, beta.ID, "ada@example.com", "a long enough password")
			if err != nil || u.ID != first.User.ID || u.Role != role.Viewer || u.WorkspaceID != beta.ID {
				t.Fatalf("signing in to the second workspace: %+v %v", u, err)
			}
			ms, err := Memberships(ctx, d.SQL, first.User.ID)
			if err != nil || len(ms) != 2 || ms[0].WorkspaceSlug != "acme" || ms[1].Role != role.Viewer {
				t.Fatalf("memberships: %+v %v", ms, err)
			}
		})
		t.Run("a bad role changes nothing", func(t *testing.T) {
			if _, err := add(beta.ID, "carol@example.com", "a long enough password", "root"); err == nil {
				t.Fatal("accepted")
			}
			if _, err := Authenticate(ctx, d.SQL, beta.ID, "carol@example.com", "a long enough password"); err == nil {
				t.Fatal("the refused user exists")
			}
		})
		t.Run("a password reset works in every workspace of the user", func(t *testing.T) {
			if _, err := ResetPassword(ctx, d.SQL, acme.ID, "ada@example.com", "a brand new password"); err != nil {
				t.Fatal(err)
			}
			for _, ws := range []string{acme.ID, beta.ID} {
				if _, err := Authenticate(ctx, d.SQL, ws, "ada@example.com", "a brand new password"); err != nil {
					t.Fatalf("new password in %s: %v", ws, err)
				}
				if _, err := Authenticate(ctx, d.SQL, ws, "ada@example.com", "a long enough password"); err == nil {
					t.Fatalf("old password still works in %s", ws)
				}
			}
			if _, err := ResetPassword(ctx, d.SQL, beta.ID, "bob@example.com", "a brand new password"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("resetting the password of a non-member: %v", err)
			}
			if _, err := ResetPassword(ctx, d.SQL, acme.ID, "bob@example.com", "short"); err == nil {
				t.Fatal("a short password accepted")
			}
		})
	})
}

// TestMigrationMakesExistingUsersOwners: users from before teams become
// owners of their workspace, and their sessions survive the migration.
func TestMigrationMakesExistingUsersOwners(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d := dbtest.Open(t, e, dbtest.Options{MigrateTo: 29})
			now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			ws, err := workspace.Create(ctx, d.SQL, "acme", "", now)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.SQL.ExecContext(ctx, `INSERT INTO users (id, workspace_id, email, password_hash, created_at)
				VALUES ('usr_old', $1, 'old@example.com', '$2a$04$abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz12', $2)`, ws.ID, now); err != nil {
				t.Fatal(err)
			}
			if _, err := d.SQL.ExecContext(ctx, `INSERT INTO web_sessions (id_hash, user_id, workspace_id, csrf, created_at, last_seen_at, expires_at)
				VALUES ($1, 'usr_old', $2, $3, $4, $4, $5)`, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
				ws.ID, "0123456789abcdef0123456789abcdef0123456789abc", now, now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if _, err := d.MigrateTo(ctx, 30); err != nil {
				t.Fatal(err)
			}
			ms, err := Memberships(ctx, d.SQL, "usr_old")
			if err != nil || len(ms) != 1 || ms[0].WorkspaceID != ws.ID || ms[0].Role != role.Owner {
				t.Fatalf("memberships after the migration: %+v %v", ms, err)
			}
			var n int
			if err := d.SQL.QueryRowContext(ctx, `SELECT count(*) FROM web_sessions WHERE user_id = 'usr_old'`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("sessions after the migration: %d %v", n, err)
			}
		})
	}
}

// TestTwoDemotionsAtOnceKeepAnOwner: two owners each demoting the other at
// the same moment — one change wins and the other is ErrLastOwner, so the
// workspace is never left without an owner (docs/teams.md#changing-a-role).
func TestTwoDemotionsAtOnceKeepAnOwner(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		ws, err := workspace.Create(ctx, d.SQL, "acme", "", now)
		if err != nil {
			t.Fatal(err)
		}
		for _, email := range []string{"ada@example.com", "bob@example.com"} {
			if _, err := Add(ctx, d.SQL, NewMember{WorkspaceID: ws.ID, Email: email, Password: "a long enough password", Role: role.Owner}, now); err != nil {
				t.Fatal(err)
			}
		}
		for round := 0; round < 20; round++ {
			errs := make(chan error, 2)
			start := make(chan struct{})
			for _, email := range []string{"ada@example.com", "bob@example.com"} {
				go func() {
					<-start
					_, err := ChangeRole(ctx, d, ws.ID, email, role.Admin, now)
					errs <- err
				}()
			}
			close(start)
			var won, refused int
			for range 2 {
				switch err := <-errs; {
				case err == nil:
					won++
				case errors.Is(err, ErrLastOwner):
					refused++
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			var owners int
			if err := d.SQL.QueryRowContext(ctx, `SELECT count(*) FROM memberships WHERE workspace_id = $1 AND role = 'owner'`, ws.ID).Scan(&owners); err != nil {
				t.Fatal(err)
			}
			if won != 1 || refused != 1 || owners != 1 {
				t.Fatalf("round %d: %d changed, %d refused, %d owners left; want 1, 1, 1", round, won, refused, owners)
			}
			// Both owners again for the next round.
			if _, err := d.SQL.ExecContext(ctx, `UPDATE memberships SET role = 'owner' WHERE workspace_id = $1`, ws.ID); err != nil {
				t.Fatal(err)
			}
		}
	})
}
