package send_test

import (
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestUnmatchedAcceptsInvariants: whatever writes the table, a person is
// kept once per account, and the key is the member id when known, else
// the handle; a prospect's kept handle is lower-case.
func TestUnmatchedAcceptsInvariants(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 21)
		sa := s.addAccount(t, "Raw", account.TierPremium, "UTC", 5)
		now := s.clock.Now()
		ins := func(id, key string, pid, handle any) error {
			_, err := d.SQL.Exec(`INSERT INTO unmatched_accepts (id, workspace_id, account_id, person_key, provider_id, public_handle, source, seen_at)
				VALUES ($1, $2, $3, $4, $5, $6, 'webhook', $7)`, id, s.ws.ID, sa.acc.ID, key, pid, handle, now)
			return err
		}
		if err := ins("u1", "ACoAAraw1", "ACoAAraw1", nil); err != nil {
			t.Fatal(err)
		}
		if err := ins("u2", "ACoAAraw1", "ACoAAraw1", "someone"); !db.IsUniqueViolation(err) {
			t.Fatalf("the same person twice on one account: %v", err)
		}
		if err := ins("u3", "something-else", "ACoAAraw2", nil); err == nil {
			t.Fatal("a key other than the member id must be refused")
		}
		if err := ins("u4", "handle:jane", nil, "jane"); err != nil {
			t.Fatal(err)
		}
		if err := ins("u5", "jane", nil, "jane"); err == nil {
			t.Fatal("a handle-only key must be handle:<handle>")
		}
		if err := ins("u6", "handle:", nil, nil); err == nil {
			t.Fatal("an accept naming nobody must be refused")
		}
		if _, err := d.SQL.Exec(`INSERT INTO prospects (id, workspace_id, provider_id, public_handle, created_at, updated_at)
			VALUES ('pr_raw', $1, 'ACoAAraw9', 'Jane-Doe', $2, $2)`, s.ws.ID, now); err == nil {
			t.Fatal("a kept handle must be lower-case")
		}
		if _, err := d.SQL.Exec(`INSERT INTO prospects (id, workspace_id, provider_id, public_handle, created_at, updated_at)
			VALUES ('pr_raw', $1, 'ACoAAraw9', 'jane-doe', $2, $2)`, s.ws.ID, now); err != nil {
			t.Fatalf("a lower-case kept handle: %v", err)
		}
	})
}
