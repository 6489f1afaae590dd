package health_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/health"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// EnvBenchAccounts overrides how many accounts BenchmarkSweep10k sweeps.
const EnvBenchAccounts = "KEEL_BENCH_ACCOUNTS"

// BenchmarkSweep10k measures one full health sweep of N accounts (10,000,
// or KEEL_BENCH_ACCOUNTS) against the fake Unipile on 127.0.0.1, on each
// engine: every account is due and healthy, so each sweep makes N checks.
// Besides ns/op (one sweep) it reports checks/s, SQL statements per check
// and transactions per check, counted by a database/sql driver wrapper, so
// every statement counts (the monitor's, the account service's, the
// driver's BEGIN/COMMIT as transactions).
//
//	KEEL_TEST_POSTGRES_URL=postgres://… go test -run '^$' -bench BenchmarkSweep10k -benchtime 3x ./internal/health/
func BenchmarkSweep10k(b *testing.B) {
	n := 10000
	if v := os.Getenv(EnvBenchAccounts); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("%s=%q is not a positive number", EnvBenchAccounts, v)
		}
	}
	for _, engine := range dbtest.Engines {
		b.Run(fmt.Sprintf("%s/accounts=%d", engine, n), func(b *testing.B) {
			h := newSweepHarness(b, engine, n)
			b.ResetTimer()
			for range b.N {
				h.sweep(b)
			}
			b.StopTimer()
			h.report(b)
		})
	}
}

// TestSweepAtScale runs the benchmark's harness at a test size and holds
// its invariants: every due account is checked exactly once per sweep, and
// a healthy check costs about one SQL statement.
func TestSweepAtScale(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			h := newSweepHarness(t, engine, 300)
			for range 3 {
				h.sweep(t)
			}
			perCheck := float64(h.counter.stmts.Load()) / float64(h.checks)
			if perCheck > 1.2 {
				t.Fatalf("%.2f SQL statements per healthy check; the common path should cost about one", perCheck)
			}
		})
	}
}

type sweepHarness struct {
	e       *env
	n       int
	counter *stmtCounter
	checks  int
	elapsed time.Duration
}

func newSweepHarness(tb testing.TB, engine db.Engine, n int) *sweepHarness {
	tb.Helper()
	d, counter := openCounted(tb, engine)
	e := newEnv(tb, d, health.Config{})
	ctx := context.Background()
	err := d.InTx(ctx, func(tx *sql.Tx) error {
		for i := range n {
			pid := fmt.Sprintf("BENCH%07d", i)
			e.fake.AddAccount(fake.AccountSpec{ID: pid})
			a, err := e.accounts.Create(ctx, tx, account.NewAccount{WorkspaceID: e.ws.ID,
				ProviderAccountID: pid, Status: account.StatusConnected, Tier: account.TierPremium})
			if err != nil {
				return err
			}
			// As a connect leaves it: the provider's premium features (none,
			// as the fake reports) already known. A check writes them only
			// when they change, which is not the common path measured here.
			if err := account.RecordProviderFeatures(ctx, tx, a.ID, []string{}, e.clock.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("creating %d accounts: %v", n, err)
	}
	// Schedule everyone (spread over one interval), then let the whole
	// interval pass so that every account is due.
	if sum := e.runDue(); sum.Discovered != n {
		tb.Fatalf("discovered %d of %d accounts", sum.Discovered, n)
	}
	e.clock.Advance(health.DefaultInterval)
	counter.reset()
	return &sweepHarness{e: e, n: n, counter: counter}
}

// sweep runs one RunDue over all N due accounts, then moves the clock past
// the latest next check (interval + jitter) so the next sweep is full too.
func (h *sweepHarness) sweep(tb testing.TB) {
	tb.Helper()
	h.e.fake.ResetCalls()
	began := time.Now()
	sum := h.e.runDue()
	h.elapsed += time.Since(began)
	if sum.Checked != h.n || sum.Outcomes[health.OutcomeOK] != h.n || sum.Respread != 0 || sum.Errors != 0 {
		tb.Fatalf("sweep: %+v, want %d healthy checks", sum, h.n)
	}
	perAccount := map[string]int{}
	for _, c := range h.e.fake.Calls() {
		if c.Action == fake.ActionGetAccount {
			perAccount[c.AccountID]++
		}
	}
	if len(perAccount) != h.n {
		tb.Fatalf("%d accounts called, want %d", len(perAccount), h.n)
	}
	for id, calls := range perAccount {
		if calls != 1 {
			tb.Fatalf("account %s called %d times in one sweep", id, calls)
		}
	}
	h.checks += h.n
	h.e.clock.Advance(time.Duration(float64(health.DefaultInterval)*(1+health.DefaultJitter)) + time.Second)
}

func (h *sweepHarness) report(b *testing.B) {
	b.ReportMetric(float64(h.checks)/h.elapsed.Seconds(), "checks/s")
	b.ReportMetric(float64(h.counter.stmts.Load())/float64(h.checks), "stmts/check")
	b.ReportMetric(float64(h.counter.txs.Load())/float64(h.checks), "tx/check")
	b.ReportMetric((h.elapsed / time.Duration(b.N)).Seconds(), "s/sweep")
}

// stmtCounter counts what reaches the driver.
type stmtCounter struct {
	stmts atomic.Int64 // statements executed (exec and query)
	txs   atomic.Int64 // transactions begun
}

func (c *stmtCounter) reset() { c.stmts.Store(0); c.txs.Store(0) }

// openCounted opens a migrated database on engine whose every connection
// counts statements and transactions.
func openCounted(tb testing.TB, engine db.Engine) (*db.DB, *stmtCounter) {
	tb.Helper()
	ctx := context.Background()
	counter := &stmtCounter{}
	switch engine {
	case db.SQLite:
		path := filepath.Join(tb.TempDir(), "keel.db")
		plain, err := db.Open(ctx, "sqlite:"+path)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := plain.Migrate(ctx); err != nil {
			tb.Fatal(err)
		}
		drv := plain.SQL.Driver()
		_ = plain.Close()
		sqlDB := sql.OpenDB(&countingConnector{inner: dsnConnector{dsn: db.SQLiteDSN(path), drv: drv}, n: counter})
		sqlDB.SetMaxOpenConns(1) // as db.Open does: one writer, one connection
		tb.Cleanup(func() { _ = sqlDB.Close() })
		return &db.DB{SQL: sqlDB, Engine: db.SQLite}, counter
	default:
		plain, err := db.Open(ctx, dbtest.NewPostgresSchema(tb, true))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = plain.Close() })
		if _, err := plain.Migrate(ctx); err != nil {
			tb.Fatal(err)
		}
		sqlDB := sql.OpenDB(&countingConnector{inner: stdlib.GetPoolConnector(plain.Pool), n: counter})
		sqlDB.SetMaxIdleConns(0) // the pgx pool keeps the connections
		tb.Cleanup(func() { _ = sqlDB.Close() })
		return &db.DB{SQL: sqlDB, Engine: db.Postgres, Pool: plain.Pool}, counter
	}
}

type dsnConnector struct {
	dsn string
	drv driver.Driver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }

type countingConnector struct {
	inner driver.Connector
	n     *stmtCounter
}

func (c *countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, n: c.n}, nil
}

func (c *countingConnector) Driver() driver.Driver { return c.inner.Driver() }

// countingConn forwards to the driver's connection, counting on the way.
type countingConn struct {
	driver.Conn
	n *stmtCounter
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ex, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.n.stmts.Add(1)
	return ex.ExecContext(ctx, query, args)
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.n.stmts.Add(1)
	return q.QueryContext(ctx, query, args)
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var (
		s   driver.Stmt
		err error
	)
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		s, err = p.PrepareContext(ctx, query)
	} else {
		s, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: s, n: c.n}, nil
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.n.txs.Add(1)
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return c.Conn.Begin() // drivers without BeginTx
}

func (c *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// countingStmt counts executions of prepared statements (the account
// service prepares its hot statements on SQLite).
type countingStmt struct {
	driver.Stmt
	n *stmtCounter
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.n.stmts.Add(1)
	if ex, ok := s.Stmt.(driver.StmtExecContext); ok {
		return ex.ExecContext(ctx, args)
	}
	vals := make([]driver.Value, len(args))
	for i, a := range args {
		vals[i] = a.Value
	}
	return s.Stmt.Exec(vals) // drivers without ExecContext
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.n.stmts.Add(1)
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		return q.QueryContext(ctx, args)
	}
	vals := make([]driver.Value, len(args))
	for i, a := range args {
		vals[i] = a.Value
	}
	return s.Stmt.Query(vals) // drivers without QueryContext
}

func (s *countingStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
