// Package conformance is the one behaviour suite both storage engines must
// pass, organised by concern like the product: accounts.go (account state,
// the flip and its audit chain, alerts, migrations), campaigns.go
// (campaigns and enrollments), ledger.go (the send ledger), health.go,
// inbox.go (the webhook inbox) and outbound.go. Each concern is one exported
// ExerciseX function; the SQLite and PostgreSQL test files both call every
// one of them with a constructor for fresh databases of their engine, so the
// engines cannot drift apart. The packages' own tests hold the detail; these
// exercises hold the rules an engine must never bend.
package conformance

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/workspace"
)

// NewDB returns a fresh database for one test, migrated as opts say.
type NewDB func(t *testing.T, opts dbtest.Options) *db.DB

// Start is the fake clock's start in every conformance test.
var Start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type bundle struct {
	ctx      context.Context
	db       *db.DB
	clock    *clock.Fake
	accounts *account.Service
	ws       workspace.Workspace
}

func setup(ctx context.Context, t *testing.T, newDB NewDB) *bundle {
	t.Helper()
	d := newDB(t, dbtest.Options{})
	c := clock.NewFake(Start)
	ws, err := workspace.Create(ctx, d.SQL, "acme", "Acme", c.Now())
	if err != nil {
		t.Fatalf("creating workspace: %v", err)
	}
	return &bundle{ctx: ctx, db: d, clock: c, accounts: account.NewService(d, c), ws: ws}
}

var providerSeq = make(chan int, 1)

func init() { providerSeq <- 0 }

func nextProviderID() string {
	n := <-providerSeq
	providerSeq <- n + 1
	return fmt.Sprintf("unipile-%06d", n)
}

func (b *bundle) newAccount(t *testing.T, status account.Status) account.Account {
	t.Helper()
	a, err := b.accounts.Create(b.ctx, b.db.SQL, account.NewAccount{
		WorkspaceID: b.ws.ID, ProviderAccountID: nextProviderID(), Name: "Ada", Status: status})
	if err != nil {
		t.Fatalf("creating account: %v", err)
	}
	return a
}

func copyPtr(c account.Copy) *account.Copy { return &c }

// mustFail asserts err is a database refusal whose text contains want.
func mustFail(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected the database to refuse (%s), it accepted", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("expected refusal naming %q, got: %v", want, err)
	}
}

// rawTx runs statements in one transaction and returns the first error,
// including a refusal at commit.
func rawTx(ctx context.Context, d *db.DB, stmts ...func(tx *sql.Tx) error) error {
	return d.InTx(ctx, func(tx *sql.Tx) error {
		for _, s := range stmts {
			if err := s(tx); err != nil {
				return err
			}
		}
		return nil
	})
}

func exec(query string, args ...any) func(tx *sql.Tx) error {
	return func(tx *sql.Tx) error {
		_, err := tx.Exec(query, args...)
		return err
	}
}
