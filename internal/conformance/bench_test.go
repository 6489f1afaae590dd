package conformance

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/workspace"
)

// BenchmarkFlip measures audited state flips per second against a bare
// transaction that updates one row and inserts one row, on the same
// database in the same run, for 1 and 8 concurrent writers on each engine.
// The ratio metric is flips/s divided by bare/s.
//
//	go test -run '^$' -bench BenchmarkFlip -benchtime 2000x ./internal/conformance/
func BenchmarkFlip(b *testing.B) {
	for _, engine := range dbtest.Engines {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/writers=%d", engine, writers), func(b *testing.B) {
				benchFlip(b, engine, writers)
			})
		}
	}
}

func benchFlip(b *testing.B, engine db.Engine, writers int) {
	ctx := context.Background()
	d := dbtest.Open(b, engine, dbtest.Options{Durable: true})
	c := clock.NewFake(Start)
	svc := account.NewService(d, c)
	ws, err := workspace.Create(ctx, d.SQL, "bench", "", c.Now())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := d.SQL.ExecContext(ctx, `CREATE TABLE bench_bare (id integer PRIMARY KEY, n integer NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	if _, err := d.SQL.ExecContext(ctx, `CREATE TABLE bench_bare_log (writer integer NOT NULL, n integer NOT NULL, at timestamp NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, writers)
	for w := range ids {
		a, err := svc.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: fmt.Sprintf("bench-%d", w), Status: account.StatusConnected})
		if err != nil {
			b.Fatal(err)
		}
		ids[w] = a.ID
		if _, err := d.SQL.ExecContext(ctx, `INSERT INTO bench_bare (id, n) VALUES ($1, 0)`, w); err != nil {
			b.Fatal(err)
		}
	}
	terminal := account.TerminalCredentials()

	run := func(op func(w, i int) error) time.Duration {
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		start := time.Now()
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w; i < b.N; i += writers {
					if err := op(w, i); err != nil {
						errs <- err
						return
					}
				}
			}(w)
		}
		wg.Wait()
		elapsed := time.Since(start)
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		return elapsed
	}
	b.ResetTimer()
	bare := run(func(w, i int) error {
		return d.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE bench_bare SET n = n + 1 WHERE id = $1`, w); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO bench_bare_log (writer, n, at) VALUES ($1, $2, $3)`, w, i, c.Now())
			return err
		})
	})
	flips := run(func(w, i int) error {
		req := account.FlipRequest{AccountID: ids[w], To: account.StatusConnected, Reason: "bench", Source: account.SourceHealthCheck}
		if (i/writers)%2 == 0 {
			req.To, req.Copy, req.Source = account.StatusDisconnected, &terminal, account.SourceWebhook
		}
		_, err := svc.Flip(ctx, req)
		return err
	})
	// The flip as two statements, as Flip wrote it on every engine before
	// the one-statement flip (lock and read the account, then insert the
	// audit row that applies it): the "before" of docs/benchmarks.md,
	// measured in the same run. The accounts end where the flips left them
	// (an even count of flips per writer leaves each connected).
	lock := `SELECT ` + account.Columns("a") + ` FROM linkedin_accounts a WHERE a.id = $1` + d.LockForUpdate()
	const insertAudit = `INSERT INTO linkedin_account_status_audit
		(account_id, from_status, to_status, reason, source, actor, strikes, created_at, last_error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`
	var twoStatements time.Duration
	if d.HasWritableCTEs() {
		twoStatements = run(func(w, i int) error {
			return d.InTx(ctx, func(tx *sql.Tx) error {
				before, err := account.ScanWith(tx.QueryRowContext(ctx, lock, ids[w]))
				if err != nil {
					return err
				}
				to, source, copyText := account.StatusConnected, account.SourceHealthCheck, any(nil)
				if before.Status == account.StatusConnected {
					to, source, copyText = account.StatusDisconnected, account.SourceWebhook, terminal.Text
				}
				var id int64
				return tx.QueryRowContext(ctx, insertAudit, ids[w], string(before.Status), string(to), "bench", string(source),
					"", 0, c.Now(), copyText).Scan(&id)
			})
		})
	}
	b.StopTimer()
	bareRate := float64(b.N) / bare.Seconds()
	flipRate := float64(b.N) / flips.Seconds()
	b.ReportMetric(flipRate, "flips/s")
	b.ReportMetric(bareRate, "bare/s")
	b.ReportMetric(flipRate/bareRate, "ratio")
	if twoStatements > 0 {
		b.ReportMetric(float64(b.N)/twoStatements.Seconds()/bareRate, "ratio-two-statements")
	}
}
