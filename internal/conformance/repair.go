package conformance

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/repair"
	"github.com/keel-outreach/keel/internal/workspace"
)

// legacyRow is an account as an old or imported database may hold it.
type legacyRow struct {
	id, status, lastError string
	disconnected          bool
	violating             bool
}

var legacyRows = []legacyRow{
	{"acc_legacy_split", "connected", "Account no longer registered with Unipile — please reconnect", false, true},
	{"acc_legacy_split2", "connected", "Account not found (404). Please Reconnect.", false, true},
	{"acc_legacy_markers", "connected", "", true, true},
	{"acc_legacy_error", "error", "Unipile timeout", false, true},
	{"acc_legacy_disc", "disconnected", "credentials expired", false, true},
	{"acc_legacy_ok", "connected", "", false, false},
	{"acc_legacy_soft", "connected", "Unipile temporarily unreachable (HTTP 404, strike 1/3). Auto-retry; account remains connected.", false, false},
	{"acc_legacy_gone", "disconnected", "Reconnect needed", true, false},
}

// buildLegacy returns a database holding legacyRows as they were before the
// constraints: on PostgreSQL the schema before migration 2, on SQLite (which
// has no such version) rows written with CHECKs switched off, as an import
// or a hand-edited restore would.
func buildLegacy(ctx context.Context, t *testing.T, newDB NewDB) (*db.DB, *clock.Fake, workspace.Workspace) {
	t.Helper()
	c := clock.NewFake(Start)
	probe := newDB(t, dbtest.Options{MigrateTo: -1})
	var d *db.DB
	if probe.Engine == db.Postgres {
		d = newDB(t, dbtest.Options{MigrateTo: 1})
	} else {
		d = newDB(t, dbtest.Options{})
		if _, err := d.SQL.ExecContext(ctx, `PRAGMA ignore_check_constraints = ON`); err != nil {
			t.Fatal(err)
		}
	}
	ws, err := workspace.Create(ctx, d.SQL, "legacy", "", c.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range legacyRows {
		var discAt, lastErr any
		if r.disconnected {
			discAt = c.Now()
		}
		if r.lastError != "" {
			lastErr = r.lastError
		}
		if _, err := d.SQL.ExecContext(ctx, `INSERT INTO linkedin_accounts (id, workspace_id, provider_account_id, status, last_error,
			disconnected_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
			r.id, ws.ID, fmt.Sprintf("legacy-%d", i), r.status, lastErr, discAt, c.Now()); err != nil {
			t.Fatalf("inserting legacy row %s: %v", r.id, err)
		}
	}
	if probe.Engine == db.Postgres {
		rep, err := d.Migrate(ctx)
		if err != nil {
			t.Fatalf("upgrading a database with violating rows must not fail: %v", err)
		}
		if len(rep.NotValid) == 0 || !strings.Contains(strings.Join(rep.Warnings(), "\n"), "keel repair split-state --apply") {
			t.Fatalf("the upgrade must leave constraints NOT VALID and say to run the repair: %+v", rep)
		}
		// NOT VALID still guards new writes.
		_, err = d.SQL.ExecContext(ctx, `UPDATE linkedin_accounts SET last_error = 'please reconnect' WHERE id = 'acc_legacy_ok'`)
		if !db.ViolatesConstraint(err, "linkedin_accounts_no_split_state_chk") {
			t.Fatalf("a NOT VALID constraint must still refuse new split state: %v", err)
		}
	} else if _, err := d.SQL.ExecContext(ctx, `PRAGMA ignore_check_constraints = OFF`); err != nil {
		t.Fatal(err)
	}
	return d, c, ws
}

type snapshot struct {
	accounts string
	audit    int
	alerts   int
}

func snap(t *testing.T, d *db.DB) snapshot {
	t.Helper()
	ctx := context.Background()
	var s snapshot
	rows, err := d.SQL.QueryContext(ctx, `SELECT id, status, COALESCE(last_error, ''), disconnected_at IS NULL, COALESCE(disconnected_by, '') FROM linkedin_accounts ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for rows.Next() {
		var id, status, le, by string
		var discNull bool
		if err := rows.Scan(&id, &status, &le, &discNull, &by); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "%s|%s|%s|%v|%s\n", id, status, le, discNull, by)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("reading accounts: %v", err)
	}
	rows.Close()
	s.accounts = sb.String()
	_ = d.SQL.QueryRowContext(ctx, `SELECT count(*) FROM linkedin_account_status_audit`).Scan(&s.audit)
	_ = d.SQL.QueryRowContext(ctx, `SELECT count(*) FROM admin_alerts`).Scan(&s.alerts)
	return s
}

func testRepair(ctx context.Context, t *testing.T, newDB NewDB) {
	d, c, _ := buildLegacy(ctx, t, newDB)
	svc := account.NewService(d, c)
	wantViolating := 0
	for _, r := range legacyRows {
		if r.violating {
			wantViolating++
		}
	}

	before := snap(t, d)
	var progressCalls int
	dry, err := repair.SplitState(ctx, svc, repair.Options{BatchSize: 3, Progress: func(scanned, total int) { progressCalls++ }})
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if len(dry.Findings) != wantViolating || dry.Repaired != 0 || dry.Scanned != len(legacyRows) {
		t.Fatalf("dry run found %d (want %d), repaired %d, scanned %d: %+v", len(dry.Findings), wantViolating, dry.Repaired, dry.Scanned, dry.Findings)
	}
	if progressCalls < 3 {
		t.Fatalf("progress reported %d times over %d rows in batches of 3", progressCalls, len(legacyRows))
	}
	if after := snap(t, d); after != before {
		t.Fatalf("the dry run changed the database:\nbefore %+v\nafter  %+v", before, after)
	}

	applied, err := repair.SplitState(ctx, svc, repair.Options{Apply: true, BatchSize: 3})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if applied.Repaired != wantViolating {
		t.Fatalf("repaired %d, want %d", applied.Repaired, wantViolating)
	}
	for _, r := range legacyRows {
		a, err := svc.Get(ctx, d.SQL, "", r.id)
		if err != nil {
			t.Fatal(err)
		}
		if !r.violating {
			if string(a.Status) != r.status {
				t.Errorf("healthy row %s was changed to %s", r.id, a.Status)
			}
			continue
		}
		if a.Status != account.StatusDisconnected || a.DisconnectedAt == nil || a.DisconnectedBy == "" {
			t.Errorf("row %s after repair: %+v", r.id, a)
		}
		trail, _ := svc.Audit(ctx, d.SQL, r.id)
		lastRow := trail[len(trail)-1]
		if r.status != "disconnected" && (lastRow.Source != "repair" || lastRow.To != account.StatusDisconnected || lastRow.Actor != repair.Actor) {
			t.Errorf("row %s: the repair flip is not audited: %+v", r.id, lastRow)
		}
	}
	alerts, err := alert.List(ctx, d.SQL, alert.Filter{Kind: alert.KindSplitStateRepaired})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != wantViolating {
		t.Fatalf("%d repair alerts, want one per repaired row (%d)", len(alerts), wantViolating)
	}
	checkChains(t, ctx, d)
	if d.Engine == db.Postgres {
		if left, _ := d.NotValidConstraints(ctx); len(left) != 0 {
			t.Fatalf("constraints still NOT VALID after the repair: %v", left)
		}
		rep, err := d.Migrate(ctx)
		if err != nil || len(rep.NotValid) != 0 {
			t.Fatalf("migrate after repair: %+v %v", rep, err)
		}
	}

	before = snap(t, d)
	again, err := repair.SplitState(ctx, svc, repair.Options{Apply: true})
	if err != nil || len(again.Findings) != 0 || again.Repaired != 0 {
		t.Fatalf("second apply must be a no-op: %+v %v", again, err)
	}
	if after := snap(t, d); after != before {
		t.Fatalf("the second apply changed the database")
	}
}
