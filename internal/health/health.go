// Package health is the account health monitor of docs/health.md#health-checking. It asks
// Unipile about every LinkedIn account on a jittered schedule
// (GET /api/v1/accounts/{id}), maps the answer to a Keel status and changes
// statuses only through account.Service.Flip, with source health_check.
//
// Three safety mechanisms sit between an answer and a flip:
//
//   - 404 tolerance: "account not registered" is believed only after three
//     consecutive 404s; strikes 1 and 2 leave the account connected with soft
//     copy, and any real answer resets them.
//   - The mass-404 burst guard: when many accounts of the tenant answer 404
//     at once, that is a provider incident, not many deleted accounts. The
//     guard trips, takes back the strikes its window added, refuses checks
//     for a quiet period, then probes a few accounts before closing.
//   - The mass-disconnect limiter: provider-driven flips to disconnected are
//     rate-limited per tenant; the excess is held in the database, released
//     in later windows, and reported to an admin.
//
// All state lives in the database (tables account_health, health_guard and
// health_disconnects), so several processes sharing a PostgreSQL database
// share one guard and one limiter. RunDue is the unit of work: simulated-time
// tests call it directly and a River periodic job (jobs.go) calls it in
// production.
package health

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/unipile"
)

// Actor is written in the audit rows of the monitor's flips.
const Actor = "keel health monitor"

// Options are the dependencies of a Service.
type Options struct {
	DB       *db.DB
	Accounts *account.Service
	Client   *unipile.Client
	// Clock defaults to the wall clock.
	Clock clock.Clock
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	Config Config
}

// Service is the account health monitor. It is safe for concurrent use.
type Service struct {
	db       *db.DB
	accounts *account.Service
	client   *unipile.Client
	clock    clock.Clock
	log      *slog.Logger
	cfg      Config
}

// New validates the configuration and returns a Service. Intervals under a
// minute are accepted (tests need them) but logged as a warning.
func New(opts Options) (*Service, error) {
	switch {
	case opts.DB == nil:
		return nil, errors.New("health: DB is required")
	case opts.Accounts == nil:
		return nil, errors.New("health: Accounts is required")
	case opts.Client == nil:
		return nil, errors.New("health: Client is required")
	}
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	s := &Service{
		db:       opts.DB,
		accounts: opts.Accounts,
		client:   opts.Client,
		clock:    opts.Clock,
		log:      opts.Logger,
		cfg:      opts.Config.WithDefaults(),
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("component", "health")
	for _, w := range s.cfg.Warnings() {
		s.log.Warn(w)
	}
	return s, nil
}

// Config returns the configuration in effect, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// Outcome classifies one check.
type Outcome string

// Check outcomes. Every outcome but OutcomeRefused is stored in
// account_health.last_outcome (its CHECK lists the same names).
const (
	// OutcomeOK: Unipile reports the account's source as OK.
	OutcomeOK Outcome = "ok"
	// OutcomeProviderStatus: Unipile answered with another source status
	// (CREDENTIALS, ERROR, STOPPED, CONNECTING, PERMISSIONS).
	OutcomeProviderStatus Outcome = "provider_status"
	// OutcomeNotFound: HTTP 404, the account is not registered (a strike,
	// unless the burst guard is open).
	OutcomeNotFound Outcome = "not_found"
	// OutcomeUnreachable: no usable answer (timeout, 5xx, 429, network
	// error, refused API key). Never a strike.
	OutcomeUnreachable Outcome = "unreachable"
	// OutcomeRestricted: 403 errors/account_restricted.
	OutcomeRestricted Outcome = "restricted"
	// OutcomeVerification: LinkedIn asks for a checkpoint.
	OutcomeVerification Outcome = "verification"
	// OutcomeReconnectNeeded: the session is unusable (401
	// errors/disconnected_account and relatives).
	OutcomeReconnectNeeded Outcome = "reconnect_needed"
	// OutcomeUnrecognized: Unipile answered with nothing Keel can map; the
	// account is left as it is.
	OutcomeUnrecognized Outcome = "unrecognized"
	// OutcomeRefused: no call was made because the burst guard is open. An
	// internal refusal is never a provider failure.
	OutcomeRefused Outcome = "refused"
)

// Result is what one check found and did.
type Result struct {
	AccountID string
	Outcome   Outcome
	// SourceStatus is the provider's source status when it answered one.
	SourceStatus string
	// HTTPStatus is the provider's error status, if any.
	HTTPStatus int
	// From is the status before the check, To after it (equal when
	// nothing changed).
	From, To account.Status
	// Strikes is the 404 strike count after the check.
	Strikes int
	// Held: a disconnect was due but the limiter held it.
	Held bool
	// Tripped: this check's 404 tripped the burst guard.
	Tripped bool
	// Probe: the check was a half-open burst-guard probe.
	Probe bool
	// Restarted: Keel asked Unipile to restart the account.
	Restarted bool
	// ProviderErr is the provider's error for failed calls (for logs).
	ProviderErr error

	// guardOpen: the 404 met an open guard (opened by another check).
	guardOpen bool
	// closedGuard: this probe's answer closed the guard.
	closedGuard bool
	// restartDue: the answer calls for the episode's one restart request.
	restartDue bool
}

// Flipped reports whether the check changed the account's status.
func (r Result) Flipped() bool { return r.From != r.To }

// Summary is what one RunDue did.
type Summary struct {
	// Discovered counts accounts seen for the first time and scheduled.
	Discovered int
	// Respread counts overdue accounts (after downtime or a guard pause)
	// rescheduled across the next interval instead of checked at once.
	Respread int
	// Checked counts provider calls made.
	Checked int
	// Outcomes counts checks by outcome.
	Outcomes map[Outcome]int
	// Flipped counts status changes made by checks.
	Flipped int
	// Held counts disconnects the limiter held during this run.
	Held int
	// Released counts held disconnects applied at the start of this run.
	Released int
	// Refused counts due accounts not checked because the guard is open.
	Refused int
	// Tripped says this run tripped the burst guard.
	Tripped bool
	// Guard is the guard's state at the end of the run.
	Guard GuardState
	// Errors counts checks that failed on Keel's side (database).
	Errors int
}

func (sum *Summary) add(r Result) {
	if r.Outcome != OutcomeRefused {
		sum.Checked++
	}
	if sum.Outcomes == nil {
		sum.Outcomes = map[Outcome]int{}
	}
	sum.Outcomes[r.Outcome]++
	if r.Flipped() {
		sum.Flipped++
	}
	if r.Held {
		sum.Held++
	}
	if r.Tripped {
		sum.Tripped = true
	}
	if r.Outcome == OutcomeRefused {
		sum.Refused++
	}
}

// RunDue checks every account whose next check is due at the clock's now.
// It first schedules accounts it has never seen (spread over one Interval),
// releases held disconnects the limiter now allows, and re-spreads accounts
// overdue by more than an Interval so a backlog never turns into a burst of
// calls. While the burst guard is open it calls nothing; once the quiet
// period is over it probes instead of sweeping. It returns an error only
// when Keel's own side failed; provider failures are outcomes.
func (s *Service) RunDue(ctx context.Context) (Summary, error) {
	var sum Summary
	err := s.runDue(ctx, &sum)
	// Report where the guard ended up, whoever moved it.
	if g, _, serr := s.state(ctx); serr == nil {
		sum.Guard = g.stateAt(s.clock.Now())
	} else if err == nil {
		err = serr
	}
	return sum, err
}

func (s *Service) runDue(ctx context.Context, sum *Summary) error {
	var err error
	now := s.clock.Now()
	if sum.Discovered, err = s.discover(ctx, now); err != nil {
		return err
	}
	g, held, err := s.state(ctx)
	if err != nil {
		return err
	}
	if held > 0 {
		if sum.Released, err = s.ReleaseHeld(ctx); err != nil {
			return err
		}
	}
	switch g.stateAt(now) {
	case GuardOpen:
		sum.Refused, err = s.countDue(ctx, now)
		return err
	case GuardHalfOpen:
		if closed, err := s.probe(ctx, g, sum); err != nil || !closed {
			return err
		}
	}
	if sum.Respread, err = s.respreadOverdue(ctx, now); err != nil {
		return err
	}
	return s.sweep(ctx, now, sum)
}

// sweep claims due accounts batch by batch and checks them with
// Config.Concurrency workers. Claiming in the database (with a lease) keeps
// two processes from checking one account twice.
func (s *Service) sweep(ctx context.Context, now time.Time, sum *Summary) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		stop atomic.Bool // set when the guard opens mid-sweep
		rows = make(chan *healthRow)
	)
	for range s.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rows {
				var res Result
				var err error
				if stop.Load() {
					// The guard opened after this account was claimed: hand it
					// back due, uncalled. A refusal is not a provider failure.
					err = s.unclaim(ctx, r)
					res = Result{AccountID: r.AccountID, Outcome: OutcomeRefused, From: r.Status, To: r.Status, Strikes: r.Strikes}
				} else {
					res, err = s.check(ctx, r, false)
					if res.Tripped || (res.Outcome == OutcomeNotFound && err == nil && res.guardOpen) {
						stop.Store(true)
					}
				}
				mu.Lock()
				if err != nil {
					sum.Errors++
					errs = append(errs, err)
				} else {
					sum.add(res)
				}
				mu.Unlock()
			}
		}()
	}
	var claimErr error
	for !stop.Load() && ctx.Err() == nil {
		var claimed []*healthRow
		claimed, claimErr = s.claimDue(ctx, now, s.batchSize())
		if claimErr != nil || len(claimed) == 0 {
			break
		}
		for _, r := range claimed {
			rows <- r
		}
	}
	close(rows)
	wg.Wait()
	if claimErr != nil {
		errs = append(errs, claimErr)
	}
	if len(errs) > 0 {
		if len(errs) > 5 {
			errs = append(errs[:5], fmt.Errorf("and %d more", len(errs)-5))
		}
		return fmt.Errorf("health sweep: %w", errors.Join(errs...))
	}
	return ctx.Err()
}

// batchSize is how many accounts one claim takes: enough to keep every
// worker busy between claims, few enough that a claimed account is checked
// well within its lease.
func (s *Service) batchSize() int { return s.cfg.Concurrency * 8 }

// lease is how long a claim holds an account: long enough for a whole batch
// of hung checks, after which a crashed checker's accounts come due again.
func (s *Service) lease() time.Duration {
	return s.cfg.CheckTimeout*time.Duration(s.batchSize()/s.cfg.Concurrency+1) + time.Minute
}

// Check checks one account now, whatever its schedule (a "check now"
// button, the CLI, tests). It respects the burst guard: while the guard is
// open it refuses without calling Unipile, and while it is half-open the
// check counts as a probe.
func (s *Service) Check(ctx context.Context, accountID string) (Result, error) {
	now := s.clock.Now()
	if _, err := s.discoverOne(ctx, accountID, now); err != nil {
		return Result{}, err
	}
	g, _, err := s.state(ctx)
	if err != nil {
		return Result{}, err
	}
	st := g.stateAt(now)
	if st == GuardOpen {
		a, err := s.accounts.Get(ctx, s.db.SQL, "", accountID)
		if err != nil {
			return Result{}, err
		}
		return Result{AccountID: accountID, Outcome: OutcomeRefused, From: a.Status, To: a.Status, Strikes: a.Strikes}, nil
	}
	r, err := s.claimOne(ctx, accountID, now)
	if err != nil {
		return Result{}, err
	}
	res, err := s.check(ctx, r, st == GuardHalfOpen)
	if err != nil {
		return res, err
	}
	if res.closedGuard {
		if _, err := s.respreadOverdue(ctx, s.clock.Now()); err != nil {
			return res, err
		}
	}
	return res, nil
}

// verdict is what a provider answer means for the account.
type verdict struct {
	outcome      Outcome
	sourceStatus string
	httpStatus   int
	// target is the Keel status the answer asks for ("" for outcomes
	// handled on their own: 404, unreachable, unrecognized).
	target account.Status
	copy   *account.Copy
	reason string
	// limited: the flip is a provider-driven disconnect and goes through
	// the limiter.
	limited bool
	// restart: ask Unipile to restart the account (once per episode).
	restart bool
	err     error
}

// verificationSlugs are error types that mean LinkedIn wants a checkpoint
// solved rather than a new login.
var verificationSlugs = map[string]bool{
	"checkpoint_error": true,
	"action_required":  true,
}

// classify maps a GET /accounts/{id} answer to a verdict, as docs/health.md#status-mapping
// specifies.
func classify(a unipile.Account, err error) verdict {
	if err == nil {
		st := a.SourceStatus()
		v := verdict{outcome: OutcomeProviderStatus, sourceStatus: st}
		switch {
		case st == unipile.StatusOK:
			v.outcome, v.target, v.reason = OutcomeOK, account.StatusConnected, "Unipile reports the account OK"
		case st == unipile.StatusCredentials:
			c := account.TerminalCredentials()
			v.target, v.copy, v.limited, v.reason = account.StatusDisconnected, &c, true, "Unipile reports CREDENTIALS: the owner must reconnect"
		case st == unipile.StatusError || st == unipile.StatusStopped:
			c := account.SoftProviderError(st)
			v.target, v.copy, v.restart, v.reason = account.StatusError, &c, true, "Unipile reports "+st
		case st == unipile.StatusConnecting:
			c := account.SoftConnecting()
			v.target, v.copy, v.reason = account.StatusConnecting, &c, "Unipile reports CONNECTING"
		case st == unipile.StatusPermissions:
			// A restart cannot grant permissions, so none is asked for.
			c := account.SoftProviderReported(st)
			v.target, v.copy, v.reason = account.StatusError, &c, "Unipile reports PERMISSIONS"
		case strings.Contains(st, "CHECKPOINT") || strings.Contains(st, "VERIFICATION") || strings.Contains(st, "VALIDATION"):
			// Not in the documented enum; a lenient reading in case Unipile
			// ever reports a pending checkpoint as a source status.
			c := account.TerminalVerification()
			v.outcome, v.target, v.copy, v.reason = OutcomeVerification, account.StatusNeedsVerification, &c, "Unipile reports "+st
		default:
			v.outcome = OutcomeUnrecognized
		}
		return v
	}
	v := verdict{err: err, outcome: OutcomeUnreachable}
	var ue *unipile.Error
	slug := ""
	if errors.As(err, &ue) {
		v.httpStatus = ue.Status
		slug = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(ue.Type)), "errors/")
	}
	switch unipile.KindOf(err) {
	case unipile.KindNotFound:
		v.outcome = OutcomeNotFound
	case unipile.KindRestricted:
		c := account.TerminalRestricted()
		v.outcome, v.target, v.copy, v.reason = OutcomeRestricted, account.StatusRestricted, &c, "Unipile answered 403 errors/account_restricted"
	case unipile.KindReconnectNeeded:
		if verificationSlugs[slug] {
			c := account.TerminalVerification()
			v.outcome, v.target, v.copy, v.reason = OutcomeVerification, account.StatusNeedsVerification, &c, "Unipile answered errors/"+slug
		} else {
			c := account.TerminalCredentials()
			v.outcome, v.target, v.copy, v.limited, v.reason = OutcomeReconnectNeeded, account.StatusDisconnected, &c, true, "Unipile answered errors/"+slug
		}
	}
	// Everything else (transient, unknown outcome, rate limited, a refused
	// API key, an unclassified answer) says nothing about the account: it
	// is "unreachable", never a strike.
	return v
}

// check asks Unipile about one claimed account and applies the answer.
func (s *Service) check(ctx context.Context, r *healthRow, probe bool) (Result, error) {
	res := Result{AccountID: r.AccountID, From: r.Status, To: r.Status, Strikes: r.Strikes, Probe: probe}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.CheckTimeout)
	acct, callErr := s.client.GetAccount(cctx, r.ProviderID)
	cancel()
	if ctx.Err() != nil {
		// The sweep itself was canceled: that is no evidence about the
		// account. Hand it back due.
		_ = s.unclaim(context.WithoutCancel(ctx), r)
		return res, ctx.Err()
	}
	v := classify(acct, callErr)
	res.Outcome, res.SourceStatus, res.HTTPStatus, res.ProviderErr = v.outcome, v.sourceStatus, v.httpStatus, v.err
	now := s.clock.Now()
	if features, ok := acct.PremiumFeatures(); ok && callErr == nil &&
		(!r.ProviderFeatures.Valid || r.ProviderFeatures.String != account.FormatFeatures(features)) {
		// What the provider reports bounds the tier an operator may set.
		// Written only when it changed: a healthy check costs one statement.
		if err := account.RecordProviderFeatures(ctx, s.db.SQL, r.AccountID, features, now); err != nil {
			s.log.Warn("could not record the provider's premium features", "account", r.AccountID, "err", err)
		}
	}
	r.LastCheckedAt = &now
	r.Outcome = v.outcome
	if v.sourceStatus != "" {
		r.SourceStatus = v.sourceStatus
	}
	var err error
	switch v.outcome {
	case OutcomeNotFound:
		err = s.onNotFound(ctx, r, now, probe, &res)
	case OutcomeUnreachable:
		err = s.onUnreachable(ctx, r, now, &res)
	default:
		err = s.onAnswer(ctx, r, v, now, probe, &res)
	}
	if err != nil {
		return res, fmt.Errorf("applying health check of account %s: %w", r.AccountID, err)
	}
	if v.restart && res.restartDue {
		rctx, cancel := context.WithTimeout(ctx, s.cfg.CheckTimeout)
		if rerr := s.client.RestartAccount(rctx, r.ProviderID); rerr != nil {
			s.log.Warn("restart request failed", "account", r.AccountID, "err", rerr)
		} else {
			res.Restarted = true
		}
		cancel()
	}
	s.logResult(res)
	return res, nil
}

// logResult logs what a check changed. Trips and holds are logged where
// they are decided, with their counts.
func (s *Service) logResult(res Result) {
	switch {
	case res.Flipped():
		s.log.Info("account status changed by health check", "account", res.AccountID,
			"from", res.From, "to", res.To, "outcome", res.Outcome, "source_status", res.SourceStatus)
	case res.Outcome == OutcomeUnrecognized:
		s.log.Warn("unrecognized account answer", "account", res.AccountID, "source_status", res.SourceStatus)
	case res.Outcome == OutcomeUnreachable:
		s.log.Debug("account check unreachable", "account", res.AccountID, "err", res.ProviderErr)
	}
}

// mayChange reports whether provider evidence may change this account.
// An operator's disconnect stands until the owner reconnects, and a
// restriction seen on a send is not lifted by a healthy account read (a
// GET can succeed while LinkedIn refuses actions).
func mayChange(r *healthRow, target account.Status) bool {
	switch {
	case r.Status == account.StatusDisconnected && r.DisconnectedBy == string(account.SourceOperator):
		return false
	case r.Status == account.StatusRestricted && target == account.StatusConnected &&
		r.DisconnectedBy != string(account.SourceHealthCheck):
		return false
	}
	return true
}

// onAnswer applies a real answer (anything but 404 and unreachable): the
// strikes reset, the account takes the status the provider reports.
func (s *Service) onAnswer(ctx context.Context, r *healthRow, v verdict, now time.Time, probe bool, res *Result) error {
	r.UnreachableSince = nil
	if v.outcome != OutcomeUnrecognized {
		// A real answer ends the run of consecutive 404s. An unrecognized
		// one proves nothing either way, so it leaves the strikes alone.
		r.Strike1At, r.Strike2At = nil, nil
	}
	if v.outcome == OutcomeOK {
		r.LastOKAt = &now
		r.RestartAt = nil
	}
	if v.restart && r.RestartAt == nil && mayChange(r, v.target) {
		// One restart per episode: the mark is cleared only by an OK.
		r.RestartAt = &now
		res.restartDue = true
	}
	wantCopy := ""
	if v.copy != nil {
		wantCopy = v.copy.Text
	}
	change := v.target != "" && mayChange(r, v.target) &&
		(r.Status != v.target || r.LastError != wantCopy || r.Strikes != 0)
	cancelHolds := v.outcome == OutcomeOK && r.Held
	if !change && !cancelHolds && !probe {
		// The common case: nothing to change but the schedule.
		return s.store(ctx, s.db.SQL, r, s.nextCheck(now, r.Status))
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if cancelHolds {
			if _, err := s.CancelHeld(ctx, tx, r.AccountID, r.ClaimedAt); err != nil {
				return err
			}
		}
		if change {
			if err := s.apply(ctx, tx, r, v, res); err != nil {
				return err
			}
		}
		if probe {
			closed, err := s.probeAnswered(ctx, tx, now)
			if err != nil {
				return err
			}
			res.closedGuard = closed
		}
		return s.store(ctx, tx, r, s.nextCheck(now, res.To))
	})
}

// apply moves the account to the verdict's status (or, already there,
// brings its copy and strikes in line), inside tx.
func (s *Service) apply(ctx context.Context, tx *sql.Tx, r *healthRow, v verdict, res *Result) error {
	if r.Status == v.target {
		a, err := s.accounts.UpdateSoft(ctx, tx, account.SoftUpdate{
			AccountID: r.AccountID, Copy: v.copy, Strikes: 0, ExpectStatus: r.Status})
		if errors.Is(err, account.ErrStale) {
			return nil // moved meanwhile; the next check sees the new state
		}
		if err != nil {
			return err
		}
		res.Strikes = a.Strikes
		return nil
	}
	zero := 0
	req := account.FlipRequest{
		AccountID: r.AccountID, To: v.target, Copy: v.copy, Reason: v.reason,
		Source: account.SourceHealthCheck, Actor: Actor, Strikes: &zero, ExpectFrom: r.Status,
	}
	if v.limited {
		held, err := s.DisconnectTx(ctx, tx, req)
		if staleOrDone(err) {
			return nil
		}
		if err != nil {
			return err
		}
		res.Held = held
		if !held {
			res.To, res.Strikes = v.target, 0
		}
		return nil
	}
	f, err := s.accounts.FlipTx(ctx, tx, req)
	if staleOrDone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	res.To, res.Strikes = f.After.Status, f.After.Strikes
	return nil
}

// staleOrDone reports a flip refused because the account moved since it was
// claimed (or already has the status): not a failure, the next check
// decides again on the new state.
func staleOrDone(err error) bool {
	return errors.Is(err, account.ErrStale) || errors.Is(err, account.ErrAlreadyInStatus)
}

// onUnreachable records a check without a usable answer. It is never a
// strike; only a connected account unreachable for longer than the
// tolerance window goes to error (with soft copy).
func (s *Service) onUnreachable(ctx context.Context, r *healthRow, now time.Time, res *Result) error {
	if r.UnreachableSince == nil {
		r.UnreachableSince = &now
	}
	if r.Status != account.StatusConnected || now.Sub(*r.UnreachableSince) <= s.cfg.UnreachableTolerance {
		return s.store(ctx, s.db.SQL, r, s.nextCheck(now, r.Status))
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		c := account.SoftUnreachable(formatWindow(s.cfg.UnreachableTolerance))
		f, err := s.accounts.FlipTx(ctx, tx, account.FlipRequest{
			AccountID: r.AccountID, To: account.StatusError, Copy: &c,
			Reason: fmt.Sprintf("Unipile unreachable for account checks since %s", r.UnreachableSince.Format(time.RFC3339)),
			Source: account.SourceHealthCheck, Actor: Actor, ExpectFrom: account.StatusConnected,
		})
		switch {
		case staleOrDone(err):
		case err != nil:
			return err
		default:
			res.To, res.Strikes = f.After.Status, f.After.Strikes
		}
		return s.store(ctx, tx, r, s.nextCheck(now, res.To))
	})
}

// formatWindow renders a duration for copy: "2h", "1h30m", "45s".
func formatWindow(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// nextCheck schedules the next check after one made at now: every Interval
// for a connected account, every DisconnectedInterval otherwise, moved at
// random by up to ±Jitter so accounts do not stay in lockstep.
func (s *Service) nextCheck(now time.Time, st account.Status) time.Time {
	iv := s.cfg.Interval
	if st != account.StatusConnected {
		iv = s.cfg.DisconnectedInterval
	}
	j := s.cfg.jitter()
	f := 1 + (rand.Float64()*2-1)*j
	return clock.Normalize(now.Add(time.Duration(float64(iv) * f)))
}
