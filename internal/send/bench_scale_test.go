package send_test

import (
	"context"
	"database/sql"
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

// schedulerScale is one database of BenchmarkSchedulerScale.
type schedulerScale struct {
	d      *db.DB
	c      *clock.Fake
	engine *send.Engine
	total  time.Duration
	passes int
}

// BenchmarkSchedulerScale asks whether a scheduler pass costs what its due
// work costs rather than what the table holds (docs/benchmarks.md): two
// PostgreSQL schemas, one with KEEL_BENCH_SMALL enrollments (1,000,000) and
// one with KEEL_BENCH_LARGE (10,000,000), both on 10,000 accounts
// (KEEL_BENCH_ACCOUNTS) with the same 1,000 enrollments due on 1,000
// accounts each day, and the ledger history scaled with the table. It times
// KEEL_BENCH_PASSES (5) passes on each database, alternating which goes
// first, so the ratio large ÷ small is measured in one run under the same
// load. Run it with -benchtime 1x: the build takes minutes and the testing
// package would build twice for any other count.
//
//	KEEL_TEST_POSTGRES_URL=… go test -run '^$' -bench BenchmarkSchedulerScale -benchtime 1x -timeout 120m ./internal/send/
func BenchmarkSchedulerScale(b *testing.B) {
	nAcc := envInt("KEEL_BENCH_ACCOUNTS", 10_000)
	sizes := []int{envInt("KEEL_BENCH_SMALL", 1_000_000), envInt("KEEL_BENCH_LARGE", 10_000_000)}
	const due = 1000
	scales := make([]*schedulerScale, len(sizes))
	for k, nEnr := range sizes {
		c := clock.NewFake(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) // Monday, inside the window
		d := dbtest.Open(b, db.Postgres, dbtest.Options{Durable: true})
		seedSchedulerBench(b, d, c.Now(), nAcc, nEnr, due)
		engine, err := send.New(send.Options{DB: d, Accounts: account.NewService(d, c), Campaigns: campaign.NewService(d, c),
			Client: mustClient(b), Clock: c, BatchSize: due,
			Enqueue: func(context.Context, *sql.Tx, string) error { return nil }})
		if err != nil {
			b.Fatal(err)
		}
		scales[k] = &schedulerScale{d: d, c: c, engine: engine}
	}
	passes := b.N * envInt("KEEL_BENCH_PASSES", 5)
	b.ResetTimer()
	for i := 0; i < passes; i++ {
		for k := range scales {
			s := scales[(i+k)%len(scales)]
			b.StopTimer()
			schedulerNewDay(b, s.d, s.c, i, due)
			b.StartTimer()
			t0 := time.Now()
			sum, err := s.engine.RunPass(context.Background())
			took := time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			if sum.Claimed != due {
				b.Fatalf("pass %d claimed %d of %d due (%v)", i, sum.Claimed, due, sum.Deferrals)
			}
			s.total += took
			s.passes++
			b.StopTimer()
			schedulerSettle(b, s.d, s.c)
			b.StartTimer()
		}
	}
	b.StopTimer()
	ms := func(s *schedulerScale) float64 { return float64(s.total.Microseconds()) / 1000 / float64(s.passes) }
	b.ReportMetric(ms(scales[0]), "ms/pass-small")
	b.ReportMetric(ms(scales[1]), "ms/pass-large")
	b.ReportMetric(ms(scales[1])/ms(scales[0]), "ratio-large/small")
}

func mustClient(b *testing.B) *unipile.Client {
	b.Helper()
	client, err := unipile.New(unipile.Options{BaseURL: "http://127.0.0.1:1", APIKey: "unused"})
	if err != nil {
		b.Fatal(err)
	}
	return client
}

// schedulerNewDay starts day i of the scheduler benchmarks: the clock moves to
// the next working day and the next due enrollments (other prospects of the same due
// accounts) become due, on fresh pacing.
func schedulerNewDay(b *testing.B, d *db.DB, c *clock.Fake, i, due int) {
	b.Helper()
	ctx := context.Background()
	// The next working day: the accounts' windows are Monday to Friday.
	c.Advance(24 * time.Hour)
	for wd := c.Now().Weekday(); wd == time.Saturday || wd == time.Sunday; wd = c.Now().Weekday() {
		c.Advance(24 * time.Hour)
	}
	now := c.Now()
	if _, err := d.SQL.ExecContext(ctx, `UPDATE enrollments SET next_action_at = $1
		WHERE id IN (SELECT 'enr_' || g FROM generate_series($2::int, $3::int) g)`, now, i*due+1, (i+1)*due); err != nil {
		b.Fatal(err)
	}
	if _, err := d.SQL.ExecContext(ctx, `UPDATE account_pacing SET next_allowed_at = $1`, now); err != nil {
		b.Fatal(err)
	}
}

// schedulerSettle settles a pass's claims (nothing dispatches in the
// benchmarks) so the next pass meets only new work, as it would after
// dispatch.
func schedulerSettle(b *testing.B, d *db.DB, c *clock.Fake) {
	b.Helper()
	ctx := context.Background()
	if _, err := d.SQL.ExecContext(ctx, `UPDATE sends SET state = 'cancelled', error = 'benchmark', finished_at = $1 WHERE state = 'intent'`, c.Now()); err != nil {
		b.Fatal(err)
	}
	if _, err := d.SQL.ExecContext(ctx, `UPDATE enrollments SET next_action_at = $1 WHERE next_action_at <= $2`,
		c.Now().Add(60*24*time.Hour), c.Now().Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
}
