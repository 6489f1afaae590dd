package health_test

import (
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/health"
)

// TestSchemaRules holds the health tables' invariants as database rules on
// both engines: raw writes that break them are refused, naming the rule.
func TestSchemaRules(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, health.Config{})
		a := e.addAccounts(1, account.StatusConnected)[0]
		now := e.clock.Now()
		exec := func(query string, args ...any) error {
			_, err := d.SQL.ExecContext(e.ctx, query, args...)
			return err
		}
		refused := func(err error, rules ...string) {
			t.Helper()
			if err == nil {
				t.Fatalf("the database accepted a write breaking %s", rules[0])
			}
			for _, rule := range rules {
				if db.ViolatesConstraint(err, rule) ||
					(rule == "unique" && db.IsUniqueViolation(err)) ||
					(rule == "foreign key" && strings.Contains(strings.ToLower(err.Error()), rule)) {
					return
				}
			}
			t.Fatalf("refusal does not name %s: %v", strings.Join(rules, " or "), err)
		}

		mustOK(t, exec(`INSERT INTO account_health (account_id, next_check_at) VALUES ($1, $2)`, a.ID, now))
		refused(exec(`UPDATE account_health SET last_checked_at = $2, last_outcome = 'fine' WHERE account_id = $1`, a.ID, now),
			"account_health_last_outcome_chk")
		refused(exec(`UPDATE account_health SET last_outcome = 'ok' WHERE account_id = $1`, a.ID),
			"account_health_outcome_checked_chk")
		refused(exec(`UPDATE account_health SET strike2_at = $2 WHERE account_id = $1`, a.ID, now),
			"account_health_strike_order_chk")
		refused(exec(`UPDATE account_health SET last_ok_at = $2 WHERE account_id = $1`, a.ID, now),
			"account_health_ok_checked_chk")
		refused(exec(`INSERT INTO account_health (account_id, next_check_at) VALUES ('acc_nobody', $1)`, now), "foreign key")

		refused(exec(`INSERT INTO health_guard (id, state) VALUES (2, 'closed')`), "health_guard_singleton_chk")
		refused(exec(`UPDATE health_guard SET state = 'half_open' WHERE id = 1`), "health_guard_state_chk", "health_guard_open_chk")
		refused(exec(`UPDATE health_guard SET state = 'open', trips = 1 WHERE id = 1`), "health_guard_open_chk")
		refused(exec(`UPDATE health_guard SET probes_ok = 2 WHERE id = 1`), "health_guard_open_chk")
		refused(exec(`UPDATE health_guard SET trips = -1 WHERE id = 1`), "health_guard_trips_chk")

		insertHeld := `INSERT INTO health_disconnects (account_id, state, source, reason, copy_code, copy_text, requested_at)
		               VALUES ($1, 'held', 'webhook', 'test', 'terminal_credentials', 'reconnect needed', $2)`
		mustOK(t, exec(insertHeld, a.ID, now))
		refused(exec(insertHeld, a.ID, now), "unique")
		refused(exec(`INSERT INTO health_disconnects (account_id, state, source, reason, copy_code, copy_text, requested_at, decided_at)
		              VALUES ($1, 'held', 'webhook', 'test', 'c', 'text', $2, $2)`, a.ID, now), "health_disconnects_decided_chk")
		refused(exec(`INSERT INTO health_disconnects (account_id, state, source, reason, copy_code, copy_text, requested_at, decided_at)
		              VALUES ($1, 'applied', 'webhook', 'test', 'c', '', $2, $2)`, a.ID, now), "health_disconnects_copy_chk")
		refused(exec(`INSERT INTO health_disconnects (account_id, state, source, reason, copy_code, copy_text, requested_at, decided_at)
		              VALUES ($1, 'dropped', 'webhook', 'test', 'c', 'text', $2, $2)`, a.ID, now), "health_disconnects_state_chk")
		// A decision is final.
		mustOK(t, exec(`UPDATE health_disconnects SET state = 'canceled', decided_at = $2 WHERE account_id = $1`, a.ID, now))
		refused(exec(`UPDATE health_disconnects SET state = 'applied' WHERE account_id = $1`, a.ID), "health_disconnects_final")
		refused(exec(`DELETE FROM health_disconnects WHERE account_id = $1`, a.ID), "health_disconnects_final")
	})
}
