package send_test

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/unipile"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkSchedulerPass builds 10,000 accounts and 1,000,000 enrollments on
// PostgreSQL (KEEL_BENCH_ACCOUNTS, KEEL_BENCH_ENROLLMENTS change the
// sizes), makes 1,000 of them due on 1,000 different accounts, and times
// one scheduler pass that claims them through every gate. Dispatch is not
// part of the pass (it is a separate job), so Enqueue is a no-op. It reports
// ms per 1,000 due enrollments and claimed sends per second as a ratio to a
// bare one-update-one-insert transaction measured in the same run.
//
//	KEEL_TEST_POSTGRES_URL=… go test -run '^$' -bench BenchmarkSchedulerPass -benchtime 3x -timeout 60m ./internal/send/
func BenchmarkSchedulerPass(b *testing.B) {
	ctx := context.Background()
	d := dbtest.Open(b, db.Postgres, dbtest.Options{Durable: true})
	nAcc := envInt("KEEL_BENCH_ACCOUNTS", 10_000)
	nEnr := envInt("KEEL_BENCH_ENROLLMENTS", 1_000_000)
	const due = 1000
	c := clock.NewFake(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) // Monday, inside the window
	now := c.Now()
	must := func(q string, args ...any) {
		b.Helper()
		if _, err := d.SQL.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	seedSchedulerBench(b, d, now, nAcc, nEnr, due)

	accounts := account.NewService(d, c)
	camps := campaign.NewService(d, c)
	client, _ := unipile.New(unipile.Options{BaseURL: "http://127.0.0.1:1", APIKey: "unused"})
	engine, err := send.New(send.Options{DB: d, Accounts: accounts, Campaigns: camps, Client: client, Clock: c, BatchSize: due,
		Enqueue: func(context.Context, *sql.Tx, string) error { return nil }})
	if err != nil {
		b.Fatal(err)
	}
	must(`CREATE TABLE bench_bare (id integer PRIMARY KEY, n integer NOT NULL)`)
	must(`CREATE TABLE bench_bare_log (id integer NOT NULL, at timestamptz NOT NULL)`)
	must(`INSERT INTO bench_bare SELECT g, 0 FROM generate_series(1, 1000) g`)

	var passTotal, bareTotal time.Duration
	claimedTotal := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// A new day: the next 1,000 enrollments (other prospects of the same
		// 1,000 accounts) become due, on fresh pacing.
		c.Advance(24 * time.Hour)
		now := c.Now()
		if i > 0 {
			must(`UPDATE enrollments SET next_action_at = $1 WHERE id IN (SELECT 'enr_' || g FROM generate_series($2::int, $3::int) g)`,
				now, i*due+1, (i+1)*due)
		} else {
			must(`UPDATE enrollments SET next_action_at = $1 WHERE id IN (SELECT 'enr_' || g FROM generate_series(1, $2::int) g)`, now, due)
		}
		must(`UPDATE account_pacing SET next_allowed_at = $1`, now)
		b.StartTimer()
		t0 := time.Now()
		sum, err := engine.RunPass(ctx)
		passTotal += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		claimedTotal += sum.Claimed
		// Nothing dispatches here: settle this pass's claims so the next
		// pass meets only new work, as it would after dispatch.
		must(`UPDATE sends SET state = 'cancelled', error = 'benchmark', finished_at = $1 WHERE state = 'intent'`, c.Now())
		must(`UPDATE enrollments SET next_action_at = $1 WHERE next_action_at <= $2`, c.Now().Add(60*24*time.Hour), c.Now().Add(time.Hour))
		b.Logf("pass: due %d claimed %d deferred %d skipped %d %v", sum.Due, sum.Claimed, sum.Deferred, sum.Skipped, sum.Deferrals)
		b.StopTimer()
		t1 := time.Now()
		for j := 1; j <= due; j++ {
			if err := d.InTx(ctx, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `UPDATE bench_bare SET n = n + 1 WHERE id = $1`, j); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `INSERT INTO bench_bare_log (id, at) VALUES ($1, $2)`, j, now)
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
		bareTotal += time.Since(t1)
		b.StartTimer()
	}
	b.StopTimer()
	if claimedTotal == 0 {
		b.Fatal("the pass claimed nothing")
	}
	claimRate := float64(claimedTotal) / passTotal.Seconds()
	bareRate := float64(due*b.N) / bareTotal.Seconds()
	b.ReportMetric(float64(passTotal.Milliseconds())/float64(b.N)*1000/float64(due), "ms/1000due")
	b.ReportMetric(claimRate, "claims/s")
	b.ReportMetric(bareRate, "bare/s")
	b.ReportMetric(claimRate/bareRate, "ratio")
	b.ReportMetric(float64(claimedTotal)/float64(b.N), "claimed/pass")
}

// seedSchedulerBench fills d with the scheduler benchmarks' data, set-based
// (INSERT … SELECT generate_series): nAcc connected accounts in campaigns of
// 100, nEnr active enrollments (each its own prospect) of which the first due
// are due at now on due different accounts and the rest in 60 days, and a
// ledger with history (one confirmed profile view on each of the last tenth of
// the enrollments, spread over the past 13 days, none today) so the claim's
// ledger reads meet a table of realistic size and statistics.
func seedSchedulerBench(b *testing.B, d *db.DB, now time.Time, nAcc, nEnr, due int) {
	b.Helper()
	ctx := context.Background()
	steps := `[{"id":"s1","type":"view_profile"},{"id":"s2","type":"wait","duration":"24h"}]`
	must := func(q string, args ...any) {
		b.Helper()
		if _, err := d.SQL.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	// The bulk rows skip the per-row triggers (one connection in replica
	// mode): they are valid by construction, and at 10,000,000 rows the
	// triggers would dominate the build. Indexes are still maintained.
	conn, err := d.SQL.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		b.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	// The indexes that back no constraint are dropped for the insert and
	// built again after it: building an index once is several times faster
	// than growing it row by row.
	bulk := func(table, q string, args ...any) {
		b.Helper()
		t0 := time.Now()
		rows, err := conn.QueryContext(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
			FROM pg_index i WHERE i.indrelid = $1::regclass
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`, table)
		if err != nil {
			b.Fatal(err)
		}
		var names, defs []string
		for rows.Next() {
			var n, def string
			if err := rows.Scan(&n, &def); err != nil {
				b.Fatal(err)
			}
			names, defs = append(names, n), append(defs, def)
		}
		if err := rows.Close(); err != nil {
			b.Fatal(err)
		}
		for _, n := range names {
			exec(`DROP INDEX ` + n)
		}
		exec(`SET session_replication_role = replica`)
		exec(q, args...)
		exec(`SET session_replication_role = DEFAULT`)
		t1 := time.Now()
		exec(`SET maintenance_work_mem = '256MB'`)
		for _, def := range defs {
			exec(def)
		}
		exec(`RESET maintenance_work_mem`)
		b.Logf("bulk insert into %s: %s, %d indexes built again in %s", table, t1.Sub(t0).Round(time.Second), len(defs),
			time.Since(t1).Round(time.Second))
	}
	start := time.Now()
	must(`INSERT INTO workspaces (id, slug, name, created_at) VALUES ('ws_bench', 'bench', '', $1)`, now)
	must(`INSERT INTO linkedin_accounts (id, workspace_id, provider_account_id, name, status, tier, timezone, created_at, updated_at, ramp_started_at,
		cap_inmail_daily) SELECT 'acc_' || g, 'ws_bench', 'prov_' || g, 'A' || g, 'connected', 'premium', 'UTC', $1, $1, $2, 10
		FROM generate_series(1, $3::int) g`, now, now.Add(-60*24*time.Hour), nAcc)
	campaigns := nAcc / 100
	must(`INSERT INTO campaigns (id, workspace_id, name, status, steps, cap_invite, cap_message, cap_inmail, cap_view_profile, created_at, updated_at)
		SELECT 'cmp_' || g, 'ws_bench', 'C' || g, 'running', $1, 20, 20, 5, 40, $2, $2 FROM generate_series(1, $3::int) g`, steps, now, campaigns)
	must(`INSERT INTO campaign_accounts (campaign_id, account_id, workspace_id, position, added_at)
		SELECT 'cmp_' || (1 + (g - 1) / 100), 'acc_' || g, 'ws_bench', (g - 1) % 100, $1 FROM generate_series(1, $2::int) g`, now, nAcc)
	bulk("prospects", `INSERT INTO prospects (id, workspace_id, provider_id, first_name, created_at, updated_at)
		SELECT 'pro_' || g, 'ws_bench', 'ACoAA' || g, 'P', $1, $1 FROM generate_series(1, $2::int) g`, now, nEnr)
	// Enrollment g works for account 1 + (g-1) % nAcc, in that account's campaign;
	// all but the first 1,000 are due in 60 days.
	bulk("enrollments", `INSERT INTO enrollments (id, workspace_id, campaign_id, prospect_id, account_id, state, step_id, next_action_at, created_at, updated_at)
		SELECT 'enr_' || g, 'ws_bench', 'cmp_' || (1 + ((g - 1) % $1::int) / 100), 'pro_' || g, 'acc_' || (1 + (g - 1) % $1::int),
		       'active', 's1', CASE WHEN g <= $2::int THEN $3::timestamptz ELSE $3::timestamptz + interval '60 days' END, $3, $3
		  FROM generate_series(1, $4::int) g`, nAcc, due, now, nEnr)
	// A ledger with history, as a running installation has: one confirmed
	// profile view on each of the last enrollments, spread over the past 13
	// days (none today, so no daily cap is reached), so the ledger reads of
	// a claim meet a table of realistic size and statistics.
	hist := nEnr / 10
	bulk("sends", `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state,
		claimed_at, dispatched_at, finished_at)
		SELECT 'snd_hist_' || g, 'ws_bench', 'acc_' || (1 + (g - 1) % $1::int), 'cmp_' || (1 + ((g - 1) % $1::int) / 100),
		       'enr_' || g, 'pro_' || g, 's1', 'view_profile', 'confirmed', t, t + interval '1 minute', t + interval '2 minutes'
		  FROM (SELECT g, $2::timestamptz - (1 + g % 13) * interval '1 day' AS t
		          FROM generate_series($3::int - $4::int + 1, $3::int) g) h`, nAcc, now, nEnr, hist)
	must(`ANALYZE`)
	b.Logf("built %d accounts, %d campaigns, %d enrollments, %d past sends in %s", nAcc, campaigns, nEnr, hist, time.Since(start).Round(time.Second))

}
