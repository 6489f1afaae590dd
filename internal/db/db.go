// Package db opens Keel's storage engine from a URL, applies the embedded
// migrations for that engine, and offers the transaction helpers every other
// package uses. Both engines are reached through database/sql so that one
// body of SQL (with $N placeholders, which both accept) serves both; where
// the dialects differ the difference is spelled out here.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// Engine names a storage engine.
type Engine string

const (
	// Postgres is the production engine; several processes may share it.
	Postgres Engine = "postgres"
	// SQLite is the embedded default: one process, one file.
	SQLite Engine = "sqlite"
)

// DefaultURL is the database used when KEEL_DATABASE_URL is unset.
const DefaultURL = "keel.db"

// DefaultSQLiteBusyTimeout is how long a SQLite statement waits for a lock
// held by another process before failing.
const DefaultSQLiteBusyTimeout = 10 * time.Second

// DB is an open storage engine.
type DB struct {
	// SQL is the database/sql handle every query goes through.
	SQL *sql.DB
	// Engine says which engine SQL talks to.
	Engine Engine
	// Pool is the pgx pool behind SQL on PostgreSQL (nil on SQLite); the job
	// queue's driver needs it.
	Pool *pgxpool.Pool

	stmts stmtCache
}

// Querier is what both *sql.DB and *sql.Tx offer; functions that may run
// inside or outside a transaction take one.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// EngineOf tells which engine a KEEL_DATABASE_URL value selects.
func EngineOf(rawURL string) Engine {
	lower := strings.ToLower(rawURL)
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		return Postgres
	}
	return SQLite
}

// Open connects to the engine rawURL selects. It does not migrate.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	if strings.TrimSpace(rawURL) == "" {
		rawURL = DefaultURL
	}
	if EngineOf(rawURL) == Postgres {
		return openPostgres(ctx, rawURL)
	}
	return openSQLite(ctx, rawURL)
}

func openPostgres(ctx context.Context, rawURL string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parsing PostgreSQL URL: %s", redactParseError(err))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening PostgreSQL pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	// database/sql keeps only two idle connections by default; above that it
	// closes and reopens them (a pgxpool acquire and reset each time) under
	// any concurrency. Keep as many as the pool allows instead.
	sqlDB.SetMaxOpenConns(int(cfg.MaxConns))
	sqlDB.SetMaxIdleConns(int(cfg.MaxConns))
	return &DB{SQL: sqlDB, Engine: Postgres, Pool: pool}, nil
}

// redactParseError keeps a malformed URL (which may hold a password) out of
// error text.
func redactParseError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "cannot parse `"); i >= 0 {
		return "malformed URL"
	}
	return msg
}

// SQLiteFile is the file a KEEL_DATABASE_URL SQLite value names, and
// false for an in-memory database (no file).
func SQLiteFile(rawURL string) (string, bool) {
	if strings.TrimSpace(rawURL) == "" {
		rawURL = DefaultURL
	}
	path, query := splitSQLiteURL(rawURL)
	params, _ := url.ParseQuery(query)
	if path == "" || path == ":memory:" || params.Get("mode") == "memory" {
		return "", false
	}
	return path, true
}

// splitSQLiteURL separates a SQLite value's path from its query.
func splitSQLiteURL(rawURL string) (path, query string) {
	path = strings.TrimPrefix(rawURL, "sqlite://")
	path = strings.TrimPrefix(path, "sqlite:")
	path = strings.TrimPrefix(path, "file:")
	path, query, _ = strings.Cut(path, "?")
	return path, query
}

// SQLiteDSN turns a KEEL_DATABASE_URL SQLite value (a path, optionally
// prefixed "sqlite:") into the driver DSN with Keel's pragmas: WAL so
// readers never block the writer, a busy timeout, foreign keys on,
// immediate transactions so
// a writer takes its lock up front instead of failing on upgrade, and one
// text time format so text order is time order.
func SQLiteDSN(rawURL string) string {
	path, query := splitSQLiteURL(rawURL)
	params, _ := url.ParseQuery(query)
	params.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", DefaultSQLiteBusyTimeout.Milliseconds()))
	params.Add("_pragma", "journal_mode(WAL)")
	params.Add("_pragma", "synchronous(NORMAL)")
	params.Add("_pragma", "foreign_keys(1)")
	params.Set("_txlock", "immediate")
	params.Set("_time_format", "sqlite")
	return "file:" + path + "?" + params.Encode()
}

func openSQLite(ctx context.Context, rawURL string) (*DB, error) {
	sqlDB, err := sql.Open("sqlite", SQLiteDSN(rawURL))
	if err != nil {
		return nil, fmt.Errorf("opening SQLite: %w", err)
	}
	// One connection: SQLite has one writer anyway, and the job queue's
	// SQLite driver is built for a single connection. Code must therefore
	// never use the *sql.DB while it holds a transaction open.
	sqlDB.SetMaxOpenConns(1)
	sqlDB.SetConnMaxIdleTime(0)
	sqlDB.SetConnMaxLifetime(0)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("opening SQLite file: %w", err)
	}
	var fk int
	if err := sqlDB.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		sqlDB.Close()
		return nil, fmt.Errorf("opening SQLite: foreign keys could not be enabled (%v)", err)
	}
	return &DB{SQL: sqlDB, Engine: SQLite}, nil
}

// Close releases the engine.
func (d *DB) Close() error {
	d.closeStmts()
	err := d.SQL.Close()
	if d.Pool != nil {
		d.Pool.Close()
	}
	return err
}

// InTx runs fn in one transaction and commits it when fn returns nil; any
// error or panic rolls it back.
func (d *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := d.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	afterCommit.register(tx)
	committed := false
	defer func() {
		// Taken on every path (a panic or rollback included), run only
		// after a commit.
		hooks := afterCommit.take(tx)
		if committed {
			for _, h := range hooks {
				h()
			}
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("committing transaction: %w", err)
	}
	committed = true
	return nil
}

// AfterCommit runs fn once the change q is part of has committed: after
// the commit of the InTx transaction q is, or at once when q is not a
// transaction (each statement commits by itself) or one InTx did not
// begin. A rolled-back transaction never runs it. It is for what must
// not happen for a change that did not: the log line of a flip or an
// alert (docs/operations.md#logs).
func AfterCommit(q Querier, fn func()) {
	if tx, ok := q.(*sql.Tx); ok && afterCommit.add(tx, fn) {
		return
	}
	fn()
}

// afterCommit holds the functions waiting for each open InTx transaction.
var afterCommit = commitHooks{m: map[*sql.Tx][]func(){}}

type commitHooks struct {
	mu sync.Mutex
	m  map[*sql.Tx][]func()
}

func (c *commitHooks) register(tx *sql.Tx) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[tx] = nil
}

// add queues fn for tx; false if tx is not an open InTx transaction.
func (c *commitHooks) add(tx *sql.Tx, fn func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	hooks, ok := c.m[tx]
	if ok {
		c.m[tx] = append(hooks, fn)
	}
	return ok
}

func (c *commitHooks) take(tx *sql.Tx) []func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	hooks := c.m[tx]
	delete(c.m, tx)
	return hooks
}

// Ping checks the engine answers.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.SQL.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("pinging database: %w", err)
	}
	return nil
}

// NullIfEmpty is s as a query argument, with "" stored as NULL: optional
// text columns hold NULL, never an empty string.
func NullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// IsNoRows reports whether err means "no such row".
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// NullTime scans a nullable time from either engine, including from
// expressions: SQLite reports the type of a column it reads directly, but
// hands back text for a subquery or aggregate.
type NullTime struct {
	Time  time.Time
	Valid bool
}

// sqliteTimeFormats are the text forms SQLite may hold (Keel writes the first).
var sqliteTimeFormats = []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999", time.RFC3339Nano}

// parseStoredTime reads the form Keel writes on SQLite,
// "2006-01-02 15:04:05.999999999-07:00", without time.Parse's generality
// (a listing of 10,000 prospects reads 20,000 such times); ok is false for
// any other text, which the general formats then try.
func parseStoredTime(s string) (t time.Time, ok bool) {
	num := func(from, to int) (int, bool) {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	if len(s) < 25 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	var f [6]int
	for i, r := range [6][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}} {
		if f[i], ok = num(r[0], r[1]); !ok {
			return time.Time{}, false
		}
	}
	i, nanos := 19, 0
	if s[i] == '.' {
		j := i + 1
		for j < len(s) && j-i <= 9 && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i+1 {
			return time.Time{}, false
		}
		frac, _ := num(i+1, j)
		for k := j - i - 1; k < 9; k++ {
			frac *= 10
		}
		i, nanos = j, frac
	}
	if len(s) != i+6 || (s[i] != '+' && s[i] != '-') || s[i+3] != ':' {
		return time.Time{}, false
	}
	zh, ok1 := num(i+1, i+3)
	zm, ok2 := num(i+4, i+6)
	if !ok1 || !ok2 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 59 || zm > 59 {
		return time.Time{}, false
	}
	offset := (zh*60 + zm) * 60
	if s[i] == '-' {
		offset = -offset
	}
	t = time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], nanos, time.UTC)
	if t.Day() != f[2] {
		return time.Time{}, false // a day the month lacks (time.Date rolled it over)
	}
	return t.Add(-time.Duration(offset) * time.Second), true
}

// Scan implements sql.Scanner.
func (n *NullTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		n.Time, n.Valid = time.Time{}, false
		return nil
	case time.Time:
		n.Time, n.Valid = x.UTC(), true
		return nil
	case []byte:
		return n.Scan(string(x))
	case string:
		if t, ok := parseStoredTime(x); ok {
			n.Time, n.Valid = t, true
			return nil
		}
		for _, f := range sqliteTimeFormats {
			if t, err := time.Parse(f, x); err == nil {
				n.Time, n.Valid = t.UTC(), true
				return nil
			}
		}
		return fmt.Errorf("cannot read %q as a time", x)
	}
	return fmt.Errorf("cannot read %T as a time", v)
}

// GroupCount is one row of a grouped count: the values of the grouping
// columns, in order, and the number counted.
type GroupCount struct {
	Labels []string
	N      float64
}

// QueryGroupCounts runs query, whose rows are labels text columns followed
// by one number, and returns its rows. Store files use it for the counts
// the metrics collector reads at scrape time.
func QueryGroupCounts(ctx context.Context, q Querier, labels int, query string, args ...any) ([]GroupCount, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []GroupCount
	for rows.Next() {
		g := GroupCount{Labels: make([]string, labels)}
		dest := make([]any, 0, labels+1)
		for i := range g.Labels {
			dest = append(dest, &g.Labels[i])
		}
		dest = append(dest, &g.N)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
