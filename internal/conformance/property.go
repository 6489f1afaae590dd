package conformance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
)

// DefaultPropertyOps is the number of operations of the property test.
const DefaultPropertyOps = 100_000

// RacePropertyOps is the default under the race detector (see raceEnabled).
const RacePropertyOps = 10_000

// DefaultPropertySeed makes the property test repeatable; override with
// KEEL_PROPERTY_SEED to explore.
const DefaultPropertySeed = 20261128

const propertyWorkers = 8
const propertyAccounts = 12

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// testProperty runs a seeded random mix of helper flips, soft updates,
// audited raw flips and raw-SQL attacks from 8 goroutines on the same few
// accounts, then proves no invariant broke and every audit chain is whole.
func testProperty(ctx context.Context, t *testing.T, newDB NewDB) {
	b := setup(ctx, t, newDB)
	defaultOps := DefaultPropertyOps
	if raceEnabled {
		defaultOps = RacePropertyOps
	}
	total := envInt("KEEL_PROPERTY_OPS", defaultOps)
	seed := uint64(envInt("KEEL_PROPERTY_SEED", DefaultPropertySeed))
	t.Logf("property test: %d operations, seed %d, %d workers, %d accounts", total, seed, propertyWorkers, propertyAccounts)

	ids := make([]string, propertyAccounts)
	for i := range ids {
		ids[i] = b.newAccount(t, account.Statuses[i%len(account.Statuses)]).ID
	}

	var (
		flips, refused, softs, rawFlips, attacks atomic.Int64
		breaches                                 atomic.Int64
		mu                                       sync.Mutex
		breachNotes                              []string
	)
	breach := func(format string, args ...any) {
		breaches.Add(1)
		mu.Lock()
		defer mu.Unlock()
		if len(breachNotes) < 20 {
			breachNotes = append(breachNotes, fmt.Sprintf(format, args...))
		}
	}
	var wg sync.WaitGroup
	for w := 0; w < propertyWorkers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			ops := total / propertyWorkers
			if w < total%propertyWorkers {
				ops++
			}
			for i := 0; i < ops; i++ {
				accountID := ids[rng.IntN(len(ids))]
				switch r := rng.IntN(100); {
				case r < 50:
					req := randomFlip(rng, accountID)
					_, err := b.accounts.Flip(ctx, req)
					var te *account.TransitionError
					switch {
					case err == nil:
						flips.Add(1)
					case errors.As(err, &te):
						refused.Add(1)
					default:
						breach("helper flip %s -> %s failed outside the typed refusals: %v", accountID, req.To, err)
					}
				case r < 60:
					strikes := rng.IntN(account.MaxStrikes)
					c := account.Soft404(strikes + 1)
					err := b.db.InTx(ctx, func(tx *sql.Tx) error {
						_, err := b.accounts.UpdateSoft(ctx, tx, account.SoftUpdate{AccountID: accountID, Copy: &c,
							Strikes: strikes, ExpectStatus: account.StatusConnected})
						return err
					})
					var te *account.TransitionError
					if err != nil && !errors.As(err, &te) {
						breach("soft update failed: %v", err)
					} else if err == nil {
						softs.Add(1)
					}
				case r < 65:
					if rawAuditedFlip(ctx, b, accountID) == nil {
						rawFlips.Add(1)
					}
				default:
					kind, err := rawAttack(ctx, b, rng, accountID)
					attacks.Add(1)
					if err == nil {
						breach("raw attack %q on %s was accepted", kind, accountID)
					}
				}
			}
		}(w)
	}
	wg.Wait()

	t.Logf("helper flips %d, refused %d, soft updates %d, audited raw flips %d, attacks %d (all refused: %v)",
		flips.Load(), refused.Load(), softs.Load(), rawFlips.Load(), attacks.Load(), breaches.Load() == 0)
	if n := breaches.Load(); n > 0 {
		t.Fatalf("%d breaches, first ones: %v", n, breachNotes)
	}
	if flips.Load() == 0 || attacks.Load() == 0 || rawFlips.Load() == 0 {
		t.Fatalf("the mix did not exercise every kind of operation")
	}
	checkChains(t, ctx, b.db)
	var auditRows int64
	if err := b.db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM linkedin_account_status_audit`).Scan(&auditRows); err != nil {
		t.Fatal(err)
	}
	if want := flips.Load() + rawFlips.Load() + propertyAccounts; auditRows != want {
		t.Fatalf("audit rows %d, want one per committed flip plus creations = %d", auditRows, want)
	}
}

func randomFlip(rng *rand.Rand, accountID string) account.FlipRequest {
	to := account.Statuses[rng.IntN(len(account.Statuses))]
	vocab := account.Vocabulary()
	req := account.FlipRequest{AccountID: accountID, To: to, Reason: "property",
		Source: account.Sources[rng.IntN(len(account.Sources))], Actor: "property"}
	switch rng.IntN(4) {
	case 0: // no copy
	case 1, 2: // copy that fits the target
		for {
			e := vocab[rng.IntN(len(vocab))]
			if e.WantTerminal == (to != account.StatusConnected) {
				c := e.Copy
				req.Copy = &c
				break
			}
		}
	default: // any copy, often refused
		c := vocab[rng.IntN(len(vocab))].Copy
		req.Copy = &c
	}
	if rng.IntN(3) == 0 {
		s := rng.IntN(account.MaxStrikes + 1)
		req.Strikes = &s
	}
	return req
}

// rawAuditedFlip does by hand what the helper does: an audit row (which the
// database applies to the account) and an update of the copy and markers
// in one transaction. The database accepts it when it is consistent, so
// the chain must still hold afterwards.
func rawAuditedFlip(ctx context.Context, b *bundle, accountID string) error {
	now := b.clock.Now()
	return b.db.InTx(ctx, func(tx *sql.Tx) error {
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM linkedin_accounts WHERE id = $1`+b.db.LockForUpdate(), accountID).Scan(&status); err != nil {
			return err
		}
		to, lastErr, discAt, discBy := "error", account.SoftUnreachable("2h").Text, any(now), any("operator")
		if status == "error" {
			to, lastErr, discAt, discBy = "disconnected", account.TerminalOperator().Text, now, "operator"
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO linkedin_account_status_audit (account_id, from_status, to_status, reason, source, actor, created_at, last_error)
			VALUES ($1, $2, $3, 'raw audited flip', 'health_check', 'property', $4, $5)`, accountID, status, to, now, lastErr); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE linkedin_accounts SET status = $2, last_error = $3,
			disconnected_at = COALESCE(disconnected_at, $4), disconnected_by = $5 WHERE id = $1`,
			accountID, to, lastErr, discAt, discBy)
		return err
	})
}

// rawAttack tries one way around the helper; every one must be refused.
func rawAttack(ctx context.Context, b *bundle, rng *rand.Rand, accountID string) (string, error) {
	now := b.clock.Now().Add(time.Duration(rng.IntN(1000)) * time.Second)
	to := account.Statuses[rng.IntN(len(account.Statuses))]
	terminal := account.TerminalPatterns[rng.IntN(len(account.TerminalPatterns))]
	attacks := []struct {
		name string
		run  func(tx *sql.Tx) error
	}{
		{"bare status update", func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE linkedin_accounts SET status = $2,
				disconnected_at = CASE WHEN $2 = 'connected' THEN NULL ELSE COALESCE(disconnected_at, $3) END,
				disconnected_by = CASE WHEN $2 = 'connected' THEN NULL ELSE disconnected_by END,
				strikes = CASE WHEN $2 = 'connected' THEN 0 ELSE strikes END,
				last_error = CASE WHEN $2 = 'connected' THEN NULL ELSE last_error END
				WHERE id = $1 AND status <> $2`, accountID, string(to), now)
			return refusedOrUntouched(res, err)
		}},
		{"split state copy", func(tx *sql.Tx) error {
			text := "Sorry: " + stringsTrimPercent(terminal) + " now"
			res, err := tx.ExecContext(ctx, `UPDATE linkedin_accounts SET last_error = $2 WHERE id = $1 AND status = 'connected'`, accountID, text)
			return refusedOrUntouched(res, err)
		}},
		{"disconnected_at on connected", func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE linkedin_accounts SET disconnected_at = $2 WHERE id = $1 AND status = 'connected'`, accountID, now)
			return refusedOrUntouched(res, err)
		}},
		{"clear disconnected_at", func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE linkedin_accounts SET disconnected_at = NULL WHERE id = $1 AND status <> 'connected'`, accountID)
			return refusedOrUntouched(res, err)
		}},
		{"audit row from elsewhere", func(tx *sql.Tx) error {
			// Locked first, so no concurrent flip can make the row right.
			var status string
			if err := tx.QueryRowContext(ctx, `SELECT status FROM linkedin_accounts WHERE id = $1`+b.db.LockForUpdate(), accountID).Scan(&status); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO linkedin_account_status_audit (account_id, from_status, to_status, reason, source, created_at)
				SELECT id, CASE WHEN status = 'error' THEN 'restricted' ELSE 'error' END, 'disconnected', 'elsewhere', 'operator', $2
				  FROM linkedin_accounts WHERE id = $1`, accountID, now)
			return err
		}},
		{"audit row then undo", func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO linkedin_account_status_audit (account_id, from_status, to_status, reason, source, created_at, last_error)
				SELECT id, status, CASE WHEN status = 'error' THEN 'disconnected' ELSE 'error' END, 'undo', 'health_check', $2, 'raw'
				  FROM linkedin_accounts WHERE id = $1`, accountID, now); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE linkedin_accounts SET status = 'connected', disconnected_at = NULL, disconnected_by = NULL,
				last_error = NULL, strikes = 0 WHERE id = $1`, accountID)
			if err == nil {
				return errors.New("accepted")
			}
			return err
		}},
		{"audit edit", func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE linkedin_account_status_audit SET to_status = $2
				WHERE id = (SELECT max(id) FROM linkedin_account_status_audit WHERE account_id = $1)`, accountID, string(to))
			return err
		}},
		{"audit delete", func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM linkedin_account_status_audit
				WHERE id = (SELECT max(id) FROM linkedin_account_status_audit WHERE account_id = $1)`, accountID)
			return err
		}},
		{"mismatched audit then update", func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO linkedin_account_status_audit (account_id, from_status, to_status, reason, source, created_at, last_error)
				SELECT id, status, CASE WHEN status = 'error' THEN 'restricted' ELSE 'error' END, 'mismatch', 'health_check', $2, 'raw'
				  FROM linkedin_accounts WHERE id = $1`, accountID, now); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE linkedin_accounts SET status = 'disconnected', disconnected_at = COALESCE(disconnected_at, $2),
				last_error = 'x' WHERE id = $1 AND status <> 'disconnected'`, accountID, now)
			if err == nil {
				return errors.New("accepted")
			}
			return err
		}},
		{"strikes out of range", func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE linkedin_accounts SET strikes = $2 WHERE id = $1`, accountID, 4+rng.IntN(5))
			return err
		}},
		{"unknown status", func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO linkedin_account_status_audit (account_id, from_status, to_status, reason, source, created_at)
				SELECT id, status, 'paused', 'x', 'operator', $2 FROM linkedin_accounts WHERE id = $1`, accountID, now)
			return err
		}},
	}
	a := attacks[rng.IntN(len(attacks))]
	return a.name, b.db.InTx(ctx, a.run)
}

// errUntouched marks an attack that matched no row (the account was not in a
// state it applies to): the invariant held trivially; count it as refused.
var errUntouched = errors.New("attack matched no row")

func refusedOrUntouched(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errUntouched
	}
	return nil
}

func stringsTrimPercent(p string) string {
	out := []byte{}
	for i := 0; i < len(p); i++ {
		if p[i] == '%' {
			if len(out) > 0 && i != len(p)-1 {
				out = append(out, ' ')
			}
			continue
		}
		out = append(out, p[i])
	}
	return string(out)
}
