package workspace

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"testing"
	"time"
)

// errBroken is what the failing driver reports mid-iteration, as a
// connection lost between two rows would.
var errBroken = errors.New("connection lost mid-result")

// brokenRowsDriver answers every query with one workspace row and then an
// error instead of the end of the rows.
type brokenRowsDriver struct{}

func (brokenRowsDriver) Open(string) (driver.Conn, error) { return brokenConn{}, nil }

type brokenConn struct{}

func (brokenConn) Prepare(string) (driver.Stmt, error) { return brokenStmt{}, nil }
func (brokenConn) Close() error                        { return nil }
func (brokenConn) Begin() (driver.Tx, error)           { return nil, errors.New("no transactions") }

type brokenStmt struct{}

func (brokenStmt) Close() error  { return nil }
func (brokenStmt) NumInput() int { return -1 }
func (brokenStmt) Exec([]driver.Value) (driver.Result, error) {
	return nil, errors.New("no writes")
}
func (brokenStmt) Query([]driver.Value) (driver.Rows, error) { return &brokenRows{}, nil }

type brokenRows struct{ served int }

func (*brokenRows) Columns() []string { return []string{"id", "slug", "name", "created_at"} }
func (*brokenRows) Close() error      { return nil }
func (r *brokenRows) Next(dest []driver.Value) error {
	if r.served > 0 {
		return errBroken
	}
	r.served++
	dest[0], dest[1], dest[2], dest[3] = "ws_1", "acme", "Acme", time.Unix(0, 0)
	return nil
}

func init() { sql.Register("keel-broken-rows", brokenRowsDriver{}) }

// TestListReportsAnErrorMidIteration proves a store read checks rows.Err:
// a result cut off after its first row is an error, not a one-row list.
func TestListReportsAnErrorMidIteration(t *testing.T) {
	d, err := sql.Open("keel-broken-rows", "")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got, err := List(context.Background(), d)
	if !errors.Is(err, errBroken) {
		t.Fatalf("List returned %d workspaces and error %v; want the driver's error %v", len(got), err, errBroken)
	}
}
