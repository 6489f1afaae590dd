package user

import (
	"context"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/workspace"
)

func TestPasswordsAreOnlyStoredHashed(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		ws, err := workspace.Create(ctx, d.SQL, "acme", "", now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.SQL.ExecContext(ctx, `INSERT INTO users (id, workspace_id, email, password_hash, created_at)
			VALUES ('usr_raw', $1, 'raw@example.com', 'hunter2hunter2', $2)`, ws.ID, now); !db.ViolatesConstraint(err, "users_password_hash_chk") {
			t.Fatalf("a plaintext password must be refused by the database: %v", err)
		}
		u, err := Create(ctx, d.SQL, ws.ID, "ada@example.com", "a long enough password", now)
		if err != nil {
			t.Fatal(err)
		}
		var stored string
		if err := d.SQL.QueryRow(`SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&stored); err != nil || stored == "a long enough password" {
			t.Fatalf("stored: %q %v", stored, err)
		}
		if _, err := Authenticate(ctx, d.SQL, ws.ID, "ADA@example.com", "a long enough password"); err != nil {
			t.Fatalf("right password: %v", err)
		}
		if _, err := Authenticate(ctx, d.SQL, ws.ID, "ada@example.com", "wrong password!!"); err == nil {
			t.Fatal("wrong password accepted")
		}
	})
}
