package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/unipile"
)

// processBatch is how many pending ids one query fetches.
const processBatch = 100

// maxErrorText bounds last_error; the full error is in the log.
const maxErrorText = 500

// errFinished means another processor finished the row first; the work done
// in this transaction is rolled back.
var errFinished = errors.New("inbox row already finished")

// outcome is how a row ends.
type outcome struct {
	state string // StateProcessed or StateIgnored
	note  string
	// metric is the Metrics.Processed outcome: applied, noop, held, ignored.
	metric string
}

func applied(note string) outcome { return outcome{StateProcessed, note, "applied"} }
func noop(note string) outcome    { return outcome{StateProcessed, note, "noop"} }
func ignored(note string) outcome { return outcome{StateIgnored, note, "ignored"} }

// row is a claimed inbox row.
type row struct {
	id            int64
	source        string
	event         string
	accountID     string
	statusMessage string
	payload       string
	attempts      int
}

// ProcessPending processes every pending inbox row, oldest first, and
// returns how many it finished. A row whose processing fails stays pending
// (until it has failed MaxAttempts times) and its error is part of the
// returned error; the other rows are processed regardless. A periodic job
// calls this to pick up rows a crash or a failure left behind; tests call
// it instead of waiting for the background run.
func (r *Receiver) ProcessPending(ctx context.Context) (int, error) {
	r.procMu.Lock()
	defer r.procMu.Unlock()
	return r.processPendingLocked(ctx)
}

func (r *Receiver) processPendingLocked(ctx context.Context) (int, error) {
	var (
		done  int
		errs  []error
		after int64
	)
	for {
		ids, err := r.pendingIDs(ctx, after)
		if err != nil {
			return done, errors.Join(append(errs, err)...)
		}
		if len(ids) == 0 {
			return done, errors.Join(errs...)
		}
		for _, id := range ids {
			after = id
			finished, err := r.processOne(ctx, id)
			if finished {
				done++
			}
			if err != nil {
				errs = append(errs, err)
			}
			if ctx.Err() != nil {
				return done, errors.Join(append(errs, ctx.Err())...)
			}
		}
	}
}

// processOne claims and processes one row. It reports whether the row was
// finished by this call.
func (r *Receiver) processOne(ctx context.Context, id int64) (bool, error) {
	rw, ok, err := r.claim(ctx, id)
	if err != nil || !ok {
		return false, err
	}
	out, err := r.handle(ctx, rw)
	if errors.Is(err, errFinished) {
		return false, nil
	}
	if err != nil {
		return r.recordFailure(ctx, rw, err)
	}
	r.countOutcome(rw, out)
	return true, nil
}

func (r *Receiver) countOutcome(rw row, out outcome) {
	if out.state == StateIgnored {
		r.n.ignored.Add(1)
	} else {
		r.n.processed.Add(1)
	}
	if r.metrics != nil {
		r.metrics.Processed(rw.source, out.metric)
	}
	r.log.Info("webhook delivery processed", "inbox_id", rw.id, "source", rw.source, "event", rw.event,
		"provider_account_id", rw.accountID, "status_message", rw.statusMessage, "state", out.state, "note", out.note)
}

// finish marks the row done in its own transaction.
func (r *Receiver) finish(ctx context.Context, id int64, out outcome) (outcome, error) {
	err := r.db.InTx(ctx, func(tx *sql.Tx) error { return r.finishTx(ctx, tx, id, out) })
	return out, err
}

// handle applies one row and finishes it.
func (r *Receiver) handle(ctx context.Context, rw row) (outcome, error) {
	ev, err := unipile.ParseWebhook([]byte(rw.payload))
	if err != nil {
		// It decoded when it was stored; a parser change must not wedge it.
		return r.finish(ctx, rw.id, ignored("stored payload no longer decodes: "+err.Error()))
	}
	switch {
	case rw.source == sourceAccountStatus && ev.AccountStatus != nil:
		return r.handleStatus(ctx, rw)
	case rw.source == sourceUsers && ev.NewRelation != nil:
		return r.handleInTx(ctx, rw, func(ctx context.Context, tx *sql.Tx, acct account.Account) (outcome, error) {
			if r.onRelation == nil {
				return noop("stored for the campaign engine's accept detection; nothing consumes it yet"), nil
			}
			if err := r.onRelation(ctx, tx, acct, *ev.NewRelation); err != nil {
				return outcome{}, fmt.Errorf("relation hook: %w", err)
			}
			return applied("delivered to the relation hook"), nil
		})
	case rw.source == sourceMessaging && ev.Message != nil:
		return r.handleInTx(ctx, rw, func(ctx context.Context, tx *sql.Tx, acct account.Account) (outcome, error) {
			if r.onMessage == nil {
				return noop("stored for the campaign engine's reply detection; nothing consumes it yet"), nil
			}
			if err := r.onMessage(ctx, tx, acct, *ev.Message); err != nil {
				return outcome{}, fmt.Errorf("message hook: %w", err)
			}
			return applied("delivered to the message hook"), nil
		})
	default:
		return r.finish(ctx, rw.id, ignored("nothing processes "+rw.source+" events"))
	}
}

// handleInTx looks the account up and runs fn and the finish marker in one
// transaction, so a hook's writes and the marker commit together.
func (r *Receiver) handleInTx(ctx context.Context, rw row,
	fn func(ctx context.Context, tx *sql.Tx, acct account.Account) (outcome, error)) (outcome, error) {
	var out outcome
	err := r.db.InTx(ctx, func(tx *sql.Tx) error {
		acct, err := r.accounts.GetByProviderID(ctx, tx, rw.accountID)
		switch {
		case errors.Is(err, account.ErrNotFound):
			out = ignored("unknown provider account " + rw.accountID)
		case err != nil:
			return err
		default:
			if out, err = fn(ctx, tx, acct); err != nil {
				return err
			}
		}
		return r.finishTx(ctx, tx, rw.id, out)
	})
	return out, err
}

// statusTarget maps an account_status message to the Keel status and copy
// it means (docs/health.md#webhooks-from-unipile). known is false for messages Keel does not act
// on.
func statusTarget(msg string) (to account.Status, c *account.Copy, known bool) {
	cp := func(c account.Copy) *account.Copy { return &c }
	switch msg {
	case unipile.StatusOK, unipile.StatusReconnected, unipile.StatusCreationSuccess, unipile.StatusSyncSuccess:
		return account.StatusConnected, nil, true
	case unipile.StatusCredentials:
		return account.StatusDisconnected, cp(account.TerminalCredentials()), true
	case unipile.StatusDeleted:
		return account.StatusDisconnected, cp(account.TerminalDeleted()), true
	case unipile.StatusError, unipile.StatusStopped, unipile.StatusPermissions:
		return account.StatusError, cp(account.SoftProviderReported(msg)), true
	case unipile.StatusConnecting:
		return account.StatusConnecting, cp(account.SoftConnecting()), true
	}
	// Unipile documents no exact wording for a checkpoint on this webhook;
	// any message naming one means LinkedIn wants a verification.
	if strings.Contains(msg, "CHECKPOINT") || strings.Contains(msg, "VERIFICATION") {
		return account.StatusNeedsVerification, cp(account.TerminalVerification()), true
	}
	return "", nil, false
}

// handleStatus applies an account_status row through the state-flip helper.
func (r *Receiver) handleStatus(ctx context.Context, rw row) (outcome, error) {
	to, cp, known := statusTarget(rw.statusMessage)
	if !known {
		return r.finish(ctx, rw.id, ignored("account_status message "+rw.statusMessage+" is not acted on"))
	}
	acct, err := r.accounts.GetByProviderID(ctx, r.db.SQL, rw.accountID)
	if errors.Is(err, account.ErrNotFound) {
		return r.finish(ctx, rw.id, ignored("unknown provider account "+rw.accountID))
	}
	if err != nil {
		return outcome{}, err
	}
	req := account.FlipRequest{
		AccountID: acct.ID,
		To:        to,
		Copy:      cp,
		Reason:    "Unipile account_status webhook: " + rw.statusMessage,
		Source:    account.SourceWebhook,
		Actor:     "unipile",
	}
	if to == account.StatusDisconnected {
		if acct.Status == to {
			// Nothing for the limiter to count or hold.
			return r.finish(ctx, rw.id, noop(fmt.Sprintf("account %s already %s", acct.ID, to)))
		}
		if r.disconnectTx != nil {
			var out outcome
			err := r.db.InTx(ctx, func(tx *sql.Tx) error {
				held, ferr := r.disconnectTx(ctx, tx, req)
				var err error
				if out, err = disconnectOutcome(req, held, ferr); err != nil {
					return err
				}
				return r.finishTx(ctx, tx, rw.id, out)
			})
			return out, err
		}
		// This limiter opens its own transaction, so the flip and the marker
		// cannot share one. If the process dies in between, the row is
		// processed again and the second flip is an already-in-status no-op.
		held, ferr := r.disconnect(ctx, req)
		out, err := disconnectOutcome(req, held, ferr)
		if err != nil {
			return outcome{}, err
		}
		return r.finish(ctx, rw.id, out)
	}
	var out outcome
	err = r.db.InTx(ctx, func(tx *sql.Tx) error {
		_, ferr := r.accounts.FlipTx(ctx, tx, req)
		var err error
		if out, err = flipOutcome(req, ferr); err != nil {
			return err
		}
		if errors.Is(ferr, account.ErrAlreadyInStatus) && to == account.StatusConnected {
			// The provider says the account works: like any successful
			// check, that clears strikes and soft copy left by earlier 404s,
			// and any disconnect the limiter still holds for it is stale.
			if err := r.accounts.ConfirmConnectedTx(ctx, tx, acct.ID); err != nil {
				return fmt.Errorf("confirming account %s connected: %w", acct.ID, err)
			}
		}
		return r.finishTx(ctx, tx, rw.id, out)
	})
	return out, err
}

// flipOutcome turns a flip result into an outcome; only errors worth a
// retry (the database, the limiter failing) are returned as errors.
func flipOutcome(req account.FlipRequest, err error) (outcome, error) {
	var te *account.TransitionError
	switch {
	case err == nil:
		return applied(fmt.Sprintf("account %s flipped to %s", req.AccountID, req.To)), nil
	case errors.Is(err, account.ErrAlreadyInStatus):
		return noop(fmt.Sprintf("account %s already %s", req.AccountID, req.To)), nil
	case errors.As(err, &te):
		// Not found (deleted meanwhile), a transition the table forbids…:
		// retrying cannot change the answer.
		return ignored("flip refused: " + te.Error()), nil
	default:
		return outcome{}, fmt.Errorf("flipping account %s to %s: %w", req.AccountID, req.To, err)
	}
}

// disconnectOutcome is flipOutcome for the limiter, which may hold a flip.
func disconnectOutcome(req account.FlipRequest, held bool, err error) (outcome, error) {
	out, err := flipOutcome(req, err)
	if err == nil && held {
		out = outcome{StateProcessed, "disconnect held by the mass-disconnect limiter", "held"}
	}
	return out, err
}
