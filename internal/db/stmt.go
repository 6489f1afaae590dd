package db

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// stmtCache holds statements prepared once per process. SQLite compiles a
// statement's triggers when it prepares it, which costs more than running
// it, so hot statements (the state flip) are prepared once and reused.
// PostgreSQL's driver already caches prepared statements per connection.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// Prepare readies hot statements for later TxExec/TxQueryRow calls. It
// must be called outside any transaction (on SQLite the single connection
// would otherwise be held). On PostgreSQL it does nothing.
func (d *DB) Prepare(ctx context.Context, queries ...string) error {
	if d.Engine != SQLite {
		return nil
	}
	d.stmts.mu.Lock()
	defer d.stmts.mu.Unlock()
	if d.stmts.m == nil {
		d.stmts.m = map[string]*sql.Stmt{}
	}
	for _, q := range queries {
		if _, ok := d.stmts.m[q]; ok {
			continue
		}
		s, err := d.SQL.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("preparing statement: %w", err)
		}
		d.stmts.m[q] = s
	}
	return nil
}

func (d *DB) stmt(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	d.stmts.mu.Lock()
	s := d.stmts.m[query]
	d.stmts.mu.Unlock()
	if s == nil {
		return nil
	}
	return tx.StmtContext(ctx, s)
}

// TxExec runs query in tx, through the prepared statement when there is one.
func (d *DB) TxExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if s := d.stmt(ctx, tx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// TxQueryRow runs query in tx, through the prepared statement when there is one.
func (d *DB) TxQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if s := d.stmt(ctx, tx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

func (d *DB) closeStmts() {
	d.stmts.mu.Lock()
	defer d.stmts.mu.Unlock()
	for _, s := range d.stmts.m {
		_ = s.Close()
	}
	d.stmts.m = nil
}
