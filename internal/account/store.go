package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
	"github.com/keel-outreach/keel/internal/text"
)

// Create inserts an account. A database trigger writes its first audit row
// (from nothing to Status). An account that starts not connected gets
// disconnected_at = its creation time, as docs/accounts.md#connected-iff-not-disconnected defines.
func (s *Service) Create(ctx context.Context, q db.Querier, n NewAccount) (Account, error) {
	if n.Status == "" {
		n.Status = StatusConnecting
	}
	if n.Tier == "" {
		n.Tier = TierFree
	}
	if n.Timezone == "" {
		n.Timezone = "UTC"
	}
	switch {
	case !n.Status.Valid():
		return Account{}, fmt.Errorf("creating account: unknown status %q", n.Status)
	case !n.Tier.Valid():
		return Account{}, fmt.Errorf("creating account: unknown tier %q", n.Tier)
	case strings.TrimSpace(n.ProviderAccountID) == "":
		return Account{}, errors.New("creating account: provider account id is required")
	}
	if _, err := time.LoadLocation(n.Timezone); err != nil {
		return Account{}, fmt.Errorf("creating account: unknown timezone %q", n.Timezone)
	}
	now := s.clock.Now()
	var discAt any
	if n.Status != StatusConnected {
		discAt = now
	}
	caps := DefaultCaps.Clamp(n.Tier)
	row := q.QueryRowContext(ctx, `
		INSERT INTO linkedin_accounts (id, workspace_id, provider_account_id, name, status,
			disconnected_at, tier, timezone, created_at, updated_at, ramp_started_at,
			cap_invite_daily, cap_invite_weekly, cap_message_daily, cap_inmail_daily, cap_view_profile_daily,
			cap_invite_pending, cap_withdraw_daily)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9, $10, $11, $12, $13, $14, $15, $16)
		RETURNING `+selectColumns,
		id.New("acc"), n.WorkspaceID, n.ProviderAccountID, n.Name, string(n.Status), discAt,
		string(n.Tier), n.Timezone, now, caps.InviteDaily, caps.InviteWeekly, caps.MessageDaily,
		caps.InMailDaily, caps.ViewProfileDaily, caps.InvitePending, caps.WithdrawDaily)
	a, err := ScanWith(row)
	if err != nil {
		return Account{}, fmt.Errorf("creating account: %w", err)
	}
	return a, nil
}

// Get reads one account. workspaceID may be empty for installation-wide
// callers (workers, the CLI); API callers always pass theirs.
func (s *Service) Get(ctx context.Context, q db.Querier, workspaceID, accountID string) (Account, error) {
	if !text.Valid(accountID) {
		// No id holds control characters; PostgreSQL would error on a NUL.
		return Account{}, ErrNotFound
	}
	query, args := s.byID, []any{accountID}
	if workspaceID != "" {
		query, args = s.byIDInWorkspace, append(args, workspaceID)
	}
	a, err := ScanWith(q.QueryRowContext(ctx, query, args...))
	if db.IsNoRows(err) {
		return Account{}, ErrNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("reading account %s: %w", accountID, err)
	}
	return a, nil
}

// GetByProviderID reads the account mapped to a Unipile account id.
func (s *Service) GetByProviderID(ctx context.Context, q db.Querier, providerAccountID string) (Account, error) {
	a, err := ScanWith(q.QueryRowContext(ctx,
		`SELECT `+selectColumns+` FROM linkedin_accounts WHERE provider_account_id = $1`, providerAccountID))
	if db.IsNoRows(err) {
		return Account{}, ErrNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("reading account by provider id: %w", err)
	}
	return a, nil
}

// List returns accounts ordered by id.
func (s *Service) List(ctx context.Context, q db.Querier, opts ListOptions) ([]Account, error) {
	query := `SELECT ` + selectColumns + ` FROM linkedin_accounts WHERE id > $1`
	args := []any{opts.After}
	if opts.WorkspaceID != "" {
		args = append(args, opts.WorkspaceID)
		query += fmt.Sprintf(` AND workspace_id = $%d`, len(args))
	}
	if opts.Tag != "" {
		args = append(args, opts.Tag)
		query += fmt.Sprintf(` AND id IN (SELECT account_id FROM account_tags WHERE tag = $%d)`, len(args))
	}
	query += ` ORDER BY id`
	if opts.Limit > 0 {
		args = append(args, opts.Limit)
		query += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := ScanWith(rows)
		if err != nil {
			return nil, fmt.Errorf("listing accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// RecordProviderFeatures stores the premium features the provider reported
// for an account (a health check when the report changed, a hosted-auth
// connect) and when. It changes
// nothing else: a tier set before stays, and is only checked when it is
// next changed.
func RecordProviderFeatures(ctx context.Context, q db.Querier, accountID string, features []string, at time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE linkedin_accounts SET provider_features = $2, provider_features_at = $3 WHERE id = $1`,
		accountID, FormatFeatures(features), at); err != nil {
		return fmt.Errorf("recording the provider's features of account %s: %w", accountID, err)
	}
	return nil
}

// TierChanges lists an account's tier changes, oldest first.
func TierChanges(ctx context.Context, q db.Querier, accountID string) ([]TierChange, error) {
	rows, err := q.QueryContext(ctx, `SELECT from_tier, to_tier, changed_by, changed_at, provider_features
		FROM account_tier_changes WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("listing tier changes of account %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []TierChange
	for rows.Next() {
		var c TierChange
		var at db.NullTime
		var feats *string
		if err := rows.Scan(&c.From, &c.To, &c.ChangedBy, &at, &feats); err != nil {
			return nil, fmt.Errorf("reading tier changes of account %s: %w", accountID, err)
		}
		c.ChangedAt = at.Time.UTC()
		if feats != nil {
			c.ProviderFeatures = parseFeatures(*feats)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateSettings applies a patch after validating it whole: the timezone is
// a real IANA zone, the window is well formed, every cap fits the
// (possibly new) tier's ceilings and the pacing gaps fit the
// installation's floor and each other — which the database checks again.
// One transaction locks the account, writes it and runs the settings
// hooks (OnSettingsChanged), so what a change makes due again is decided
// on the settings it wrote.
func (s *Service) UpdateSettings(ctx context.Context, workspaceID, accountID string, p SettingsPatch) (Account, error) {
	if !text.Valid(accountID) {
		return Account{}, ErrNotFound
	}
	var out Account
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		before, err := s.lock(ctx, tx, accountID, workspaceID)
		var te *TransitionError
		if errors.As(err, &te) && errors.Is(te.Err, ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		a, err := s.applySettings(before, p)
		if err != nil {
			return err
		}
		if err := s.writeSettings(ctx, tx, a, p.Actor); err != nil {
			return err
		}
		if out, err = ScanWith(s.db.TxQueryRow(ctx, tx, s.byID, accountID)); err != nil {
			return fmt.Errorf("reading account %s: %w", accountID, err)
		}
		s.mu.RLock()
		hooks := s.settingsChanged
		s.mu.RUnlock()
		for _, h := range hooks {
			if err := h.fn(ctx, tx, before, out); err != nil {
				return fmt.Errorf("settings hook %s for account %s: %w", h.name, accountID, err)
			}
		}
		return nil
	})
	if err != nil {
		return Account{}, err
	}
	return out, nil
}

// applySettings merges a patch into an account and validates the result
// whole: every bad field is listed in one ValidationError.
func (s *Service) applySettings(a Account, p SettingsPatch) (Account, error) {
	var problems []*CapError
	if p.Tier != nil {
		if msg := text.Problem(string(*p.Tier), false); msg != "" {
			problems = append(problems, &CapError{Field: "tier", Msg: msg})
		} else if !p.Tier.Valid() {
			problems = append(problems, &CapError{Field: "tier", Msg: fmt.Sprintf("%q is not one of free, premium, sales_navigator, recruiter", *p.Tier)})
		} else if *p.Tier != a.Tier && a.ProviderFeatures != nil && !TierSupported(*p.Tier, a.ProviderFeatures) {
			// Where the provider reports the account's features, the tier
			// (and with it the cap ceilings) cannot claim more. Where it
			// reports nothing the change is taken on trust and recorded.
			problems = append(problems, &CapError{Field: "tier", Msg: fmt.Sprintf(
				"the provider reports this account as %s, so it cannot be %s", describeFeatures(a.ProviderFeatures), *p.Tier)})
		} else {
			a.Tier = *p.Tier
		}
	}
	if p.Timezone != nil {
		if msg := text.Problem(*p.Timezone, false); msg != "" {
			problems = append(problems, &CapError{Field: "timezone", Msg: msg})
		} else if _, err := time.LoadLocation(*p.Timezone); err != nil || *p.Timezone == "" || strings.EqualFold(*p.Timezone, "local") {
			problems = append(problems, &CapError{Field: "timezone", Msg: fmt.Sprintf("%q is not an IANA timezone such as Europe/Paris", *p.Timezone)})
		} else {
			a.Timezone = *p.Timezone
		}
	}
	if p.Window != nil {
		days, start, end, err := ParseWindowSpec(*p.Window)
		if err != nil {
			problems = append(problems, WindowProblems(*p.Window)...)
		} else {
			a.windowDays, a.windowStart, a.windowEnd = days, start, end
			a.Window = windowSpec(days, start, end)
		}
	}
	if c := p.Caps; c != nil {
		set(&a.Caps.InviteDaily, c.InviteDaily)
		set(&a.Caps.InviteWeekly, c.InviteWeekly)
		set(&a.Caps.MessageDaily, c.MessageDaily)
		set(&a.Caps.InMailDaily, c.InMailDaily)
		set(&a.Caps.ViewProfileDaily, c.ViewProfileDaily)
		set(&a.Caps.InvitePending, c.InvitePending)
		set(&a.Caps.WithdrawDaily, c.WithdrawDaily)
	}
	if d := p.WithdrawAfterDays; d != nil {
		if *d != 0 && (*d < MinWithdrawAfterDays || *d > MaxWithdrawAfterDays) {
			problems = append(problems, &CapError{Field: "withdraw_after_days", Ceiling: MaxWithdrawAfterDays, Msg: fmt.Sprintf(
				"%d is not 0 (never) or %d–%d days", *d, MinWithdrawAfterDays, MaxWithdrawAfterDays)})
		} else {
			a.WithdrawAfterDays = *d
		}
	}
	if p.Tier != nil && p.Caps == nil {
		// A lower tier lowers the caps with it: safe, and what the user meant.
		a.Caps = a.Caps.Clamp(a.Tier)
	}
	if p.Tier != nil || p.Caps != nil {
		problems = append(problems, a.Caps.Validate(a.Tier)...)
	}
	if pp := p.Pacing; pp != nil {
		if pp.SpreadOverWindow != nil {
			a.Pacing.SpreadOverWindow = *pp.SpreadOverWindow
		}
		set(&a.Pacing.MinGapSeconds, pp.MinGapSeconds)
		set(&a.Pacing.MaxGapSeconds, pp.MaxGapSeconds)
		// Checked merged with the stored values: a patch of max alone is
		// still checked against the stored min.
		problems = append(problems, a.Pacing.validate(s.minGap, pp.MaxGapSeconds != nil)...)
	}
	if len(problems) > 0 {
		return Account{}, &ValidationError{Fields: problems}
	}
	return a, nil
}

func set(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

// writeSettings stores an account's settings in tx.
func (s *Service) writeSettings(ctx context.Context, tx *sql.Tx, a Account, actor string) error {
	if actor == "" {
		actor = "unknown"
	}
	// tier_changed_by/at move only with the tier; a trigger records the
	// change in account_tier_changes and refuses a tier the provider's
	// reported features rule out (a health check may have stored them
	// since the account was read).
	_, err := s.db.TxExec(ctx, tx, `UPDATE linkedin_accounts SET tier = $2, timezone = $3,
		window_days = $4, window_start = $5, window_end = $6, cap_invite_daily = $7, cap_invite_weekly = $8,
		cap_message_daily = $9, cap_inmail_daily = $10, cap_view_profile_daily = $11, updated_at = $12,
		tier_changed_by = CASE WHEN tier <> $2 THEN $13 ELSE tier_changed_by END,
		tier_changed_at = CASE WHEN tier <> $2 THEN $12 ELSE tier_changed_at END,
		pacing_spread = $14, pacing_min_gap_seconds = $15, pacing_max_gap_seconds = $16,
		cap_invite_pending = $17, cap_withdraw_daily = $18, withdraw_after_days = $19, settings_updated_by = $13
		WHERE id = $1`, a.ID, string(a.Tier), a.Timezone, a.windowDays, a.windowStart, a.windowEnd, a.Caps.InviteDaily, a.Caps.InviteWeekly,
		a.Caps.MessageDaily, a.Caps.InMailDaily, a.Caps.ViewProfileDaily, s.clock.Now(), actor,
		a.Pacing.SpreadOverWindow, a.Pacing.MinGapSeconds, a.Pacing.MaxGapSeconds,
		a.Caps.InvitePending, a.Caps.WithdrawDaily, a.WithdrawAfterDays)
	if db.ViolatesConstraint(err, "linkedin_accounts_tier_reported_chk") {
		return &ValidationError{Fields: []*CapError{{Field: "tier",
			Msg: "the provider reports this account without the features of the " + string(a.Tier) + " tier"}}}
	}
	if err != nil {
		return fmt.Errorf("updating settings of account %s: %w", a.ID, err)
	}
	return nil
}

// ConfirmConnectedTx records provider evidence that an already connected
// account works: strikes and soft copy left by earlier failures are
// cleared and the confirmations run, in tx. It is what a flip to connected
// does for an account that needs no flip; on an account that is not
// connected it does nothing.
func (s *Service) ConfirmConnectedTx(ctx context.Context, tx *sql.Tx, accountID string) error {
	a, err := s.lock(ctx, tx, accountID, "")
	if err != nil {
		return err
	}
	if a.Status != StatusConnected {
		return nil
	}
	now := s.clock.Now()
	if a.Strikes != 0 || a.LastError != "" {
		if _, err := s.db.TxExec(ctx, tx, updateSoftSQL, accountID, nil, 0, now); err != nil {
			return fmt.Errorf("clearing soft state of account %s: %w", accountID, err)
		}
	}
	return s.runConfirmations(ctx, tx, accountID, now)
}

// FlipTx is Flip inside the caller's transaction, for callers whose own
// writes must commit or roll back together with the flip.
func (s *Service) FlipTx(ctx context.Context, tx *sql.Tx, req FlipRequest) (Flipped, error) {
	if req.AccountID == "" || req.Reason == "" {
		return Flipped{}, &TransitionError{AccountID: req.AccountID, To: req.To, Source: req.Source,
			Err: ErrInvalidRequest, Detail: "account id and reason are required"}
	}
	if s.db.HasWritableCTEs() {
		return s.flipOneStatement(ctx, tx, req)
	}
	before, err := s.lock(ctx, tx, req.AccountID, req.WorkspaceID)
	if err != nil {
		return Flipped{}, err
	}
	if err := checkFlip(req, before); err != nil {
		return Flipped{}, err
	}
	now := s.clock.Now()
	after := flipped(req, before, now)

	// The audit row is the flip: its insert trigger moves the account and
	// sets the disconnect markers exactly as flipped computes them, or
	// refuses the row.
	var auditID int64
	if err := s.db.TxQueryRow(ctx, tx, insertAuditSQL,
		req.AccountID, string(before.Status), string(after.Status), req.Reason, string(req.Source),
		req.Actor, after.Strikes, now, db.NullIfEmpty(after.LastError)).Scan(&auditID); err != nil {
		return Flipped{}, fmt.Errorf("flipping account %s %s -> %s: %w", req.AccountID, before.Status, after.Status, err)
	}
	return s.afterFlip(ctx, tx, req, before, after, auditID, now)
}

// flipOneStatement is FlipTx in one round trip where the engine allows a
// write inside WITH (docs/benchmarks.md#state-flips-with-audit): the statement locks and
// reads the account and inserts the audit row (whose trigger applies the
// flip) only if the account's status is one the request may leave from,
// which Go works out beforehand from the same CheckTransition. When no row
// was inserted, the read account says why, through the same checks.
func (s *Service) flipOneStatement(ctx context.Context, tx *sql.Tx, req FlipRequest) (Flipped, error) {
	var from []string
	for _, st := range Statuses {
		if checkFlip(req, Account{ID: req.AccountID, Status: st}) == nil {
			from = append(from, string(st))
		}
	}
	now := s.clock.Now()
	lastError := ""
	if req.Copy != nil {
		lastError = req.Copy.Text
	}
	var strikes any
	if req.Strikes != nil {
		strikes = *req.Strikes
	}
	args := []any{req.AccountID, from, string(req.To), req.Reason, string(req.Source), req.Actor, strikes, now,
		db.NullIfEmpty(lastError)}
	query := flipCTESQL
	if req.WorkspaceID != "" {
		query, args = flipCTEInWorkspaceSQL, append(args, req.WorkspaceID)
	}
	var auditID sql.NullInt64
	before, err := ScanWith(tx.QueryRowContext(ctx, query, args...), &auditID)
	if errors.Is(err, sql.ErrNoRows) {
		return Flipped{}, &TransitionError{AccountID: req.AccountID, Err: ErrNotFound}
	}
	if err != nil {
		return Flipped{}, fmt.Errorf("flipping account %s to %s: %w", req.AccountID, req.To, err)
	}
	if !auditID.Valid {
		if err := checkFlip(req, before); err != nil {
			return Flipped{}, err
		}
		return Flipped{}, fmt.Errorf("flipping account %s %s -> %s: no audit row written", req.AccountID, before.Status, req.To)
	}
	return s.afterFlip(ctx, tx, req, before, flipped(req, before, now), auditID.Int64, now)
}

// flipCTE is the one-statement flip (PostgreSQL). $2 lists the statuses the
// flip may start from; strikes are the request's ($7, NULL to keep the
// account's), reset on connect, as flipped computes them.
const flipCTE = `
	WITH b AS (SELECT ` + selectColumns + ` FROM linkedin_accounts WHERE id = $1%s FOR UPDATE),
	     f AS (INSERT INTO linkedin_account_status_audit
	               (account_id, from_status, to_status, reason, source, actor, strikes, created_at, last_error)
	           SELECT $1, b.status, $3, $4, $5, $6, CASE WHEN $3 = 'connected' THEN 0 ELSE COALESCE($7::integer, b.strikes) END, $8, $9
	             FROM b WHERE b.status = ANY ($2::text[])
	           RETURNING id)
	SELECT ` + selectColumns + `, (SELECT id FROM f) FROM b`

var (
	flipCTESQL            = fmt.Sprintf(flipCTE, "")
	flipCTEInWorkspaceSQL = fmt.Sprintf(flipCTE, " AND workspace_id = $10")
)

// checkFlip refuses a request the account's current status rules out.
func checkFlip(req FlipRequest, before Account) error {
	if req.ExpectFrom != "" && before.Status != req.ExpectFrom {
		return &TransitionError{AccountID: req.AccountID, From: before.Status, To: req.To,
			Source: req.Source, Err: ErrStale, Detail: "expected " + string(req.ExpectFrom)}
	}
	return CheckTransition(req.AccountID, before.Status, req.To, req.Source, req.Copy)
}

// flipped is the account as a flip of before by req at now leaves it.
func flipped(req FlipRequest, before Account, now time.Time) Account {
	after := before
	after.Status = req.To
	after.UpdatedAt = now
	after.LastError = ""
	if req.Copy != nil {
		after.LastError = req.Copy.Text
	}
	if req.Strikes != nil {
		after.Strikes = *req.Strikes
	}
	if req.To == StatusConnected {
		after.DisconnectedAt, after.DisconnectedBy, after.Strikes = nil, "", 0
	} else {
		after.DisconnectedBy = string(req.Source)
		if before.Status == StatusConnected || before.DisconnectedAt == nil {
			t := now
			after.DisconnectedAt = &t
		}
	}
	return after
}

// afterFlip runs a written flip's confirmations and consequences in tx.
func (s *Service) afterFlip(ctx context.Context, tx *sql.Tx, req FlipRequest, before, after Account, auditID int64, now time.Time) (Flipped, error) {
	f := Flipped{Before: before, After: after, AuditID: auditID, Reason: req.Reason,
		Source: req.Source, Actor: req.Actor, At: now}
	if after.Status == StatusConnected {
		if err := s.runConfirmations(ctx, tx, req.AccountID, now); err != nil {
			return Flipped{}, err
		}
	}
	s.mu.RLock()
	consequences := s.consequences
	s.mu.RUnlock()
	for _, c := range consequences {
		if err := c.fn(ctx, tx, f); err != nil {
			return Flipped{}, fmt.Errorf("flip consequence %s for account %s: %w", c.name, req.AccountID, err)
		}
	}
	db.AfterCommit(tx, func() { s.logFlip(f) })
	return f, nil
}

// logFlip writes a committed flip's one info line (docs/operations.md#logs):
// ids, the two statuses, source and reason; not who asked (an email).
func (s *Service) logFlip(f Flipped) {
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "account status changed",
		slog.String("account_id", f.After.ID), slog.String("workspace_id", f.After.WorkspaceID),
		slog.String("from", string(f.Before.Status)), slog.String("to", string(f.After.Status)),
		slog.String("source", string(f.Source)), slog.String("reason", f.Reason), slog.Int64("audit_id", f.AuditID))
}

// lock reads the account and holds its row until the transaction ends.
func (s *Service) lock(ctx context.Context, tx *sql.Tx, accountID, workspaceID string) (Account, error) {
	args := []any{accountID}
	if workspaceID != "" {
		args = append(args, workspaceID)
	}
	a, err := ScanWith(s.db.TxQueryRow(ctx, tx, s.lockQuery(workspaceID != ""), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, &TransitionError{AccountID: accountID, Err: ErrNotFound}
	}
	if err != nil {
		return Account{}, fmt.Errorf("locking account %s: %w", accountID, err)
	}
	return a, nil
}

// UpdateSoft writes strikes and soft copy in the caller's transaction.
func (s *Service) UpdateSoft(ctx context.Context, tx *sql.Tx, u SoftUpdate) (Account, error) {
	a, err := s.lock(ctx, tx, u.AccountID, "")
	if err != nil {
		return Account{}, err
	}
	if u.ExpectStatus != "" && a.Status != u.ExpectStatus {
		return Account{}, &TransitionError{AccountID: u.AccountID, From: a.Status, To: a.Status,
			Err: ErrStale, Detail: "expected " + string(u.ExpectStatus)}
	}
	if u.Copy != nil && u.Copy.Terminal() && a.Status == StatusConnected {
		return Account{}, &TransitionError{AccountID: u.AccountID, From: a.Status, To: a.Status,
			Err: ErrCopyNotAllowed, Detail: "terminal copy cannot stand beside status connected; flip the account instead"}
	}
	if u.Strikes < 0 || u.Strikes > MaxStrikes {
		return Account{}, &TransitionError{AccountID: u.AccountID, From: a.Status, To: a.Status,
			Err: ErrInvalidRequest, Detail: fmt.Sprintf("strikes %d out of range", u.Strikes)}
	}
	now := s.clock.Now()
	a.LastError, a.Strikes, a.UpdatedAt = "", u.Strikes, now
	if u.Copy != nil {
		a.LastError = u.Copy.Text
	}
	if _, err := s.db.TxExec(ctx, tx, updateSoftSQL, u.AccountID, db.NullIfEmpty(a.LastError), a.Strikes, now); err != nil {
		return Account{}, fmt.Errorf("updating account %s: %w", u.AccountID, err)
	}
	return a, nil
}

// Audit returns an account's status history, oldest first.
func (s *Service) Audit(ctx context.Context, q db.Querier, accountID string) ([]AuditEntry, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT id, account_id, from_status, to_status, reason, source, actor, strikes, COALESCE(last_error, ''), created_at
		  FROM linkedin_account_status_audit WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("reading audit of account %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var from sql.NullString
		if err := rows.Scan(&e.ID, &e.AccountID, &from, &e.To, &e.Reason, &e.Source, &e.Actor, &e.Strikes, &e.LastError, &e.CreatedAt); err != nil {
			return nil, fmt.Errorf("reading audit of account %s: %w", accountID, err)
		}
		e.From = Status(from.String)
		e.CreatedAt = e.CreatedAt.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// StampDisconnectedAt gives a not-connected account that lacks one a
// disconnected_at (now) and cause. Only the repair needs it: every flip sets
// both itself.
func (s *Service) StampDisconnectedAt(ctx context.Context, tx *sql.Tx, accountID string, source Source) error {
	a, err := s.lock(ctx, tx, accountID, "")
	if err != nil {
		return err
	}
	if a.Status == StatusConnected || a.DisconnectedAt != nil {
		return nil
	}
	now := s.clock.Now()
	if _, err := tx.ExecContext(ctx,
		`UPDATE linkedin_accounts SET disconnected_at = $2, disconnected_by = COALESCE(disconnected_by, $3), updated_at = $2
		  WHERE id = $1 AND status <> 'connected' AND disconnected_at IS NULL`,
		accountID, now, string(source)); err != nil {
		return fmt.Errorf("stamping disconnected_at on account %s: %w", accountID, err)
	}
	return nil
}

// CountByStatus counts accounts by status, for the metrics scrape.
func CountByStatus(ctx context.Context, q db.Querier) ([]db.GroupCount, error) {
	out, err := db.QueryGroupCounts(ctx, q, 1, `SELECT status, count(*) FROM linkedin_accounts GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("counting accounts by status: %w", err)
	}
	return out, nil
}

// ConnectedStrikes sums the live 404 strikes of connected accounts, for
// the metrics scrape.
func ConnectedStrikes(ctx context.Context, q db.Querier) ([]db.GroupCount, error) {
	out, err := db.QueryGroupCounts(ctx, q, 0, `SELECT COALESCE(SUM(strikes), 0) FROM linkedin_accounts WHERE status = 'connected'`)
	if err != nil {
		return nil, fmt.Errorf("summing strikes: %w", err)
	}
	return out, nil
}

// CountFlips counts audited status flips (not first statuses) by target
// status and source, for the metrics scrape.
func CountFlips(ctx context.Context, q db.Querier) ([]db.GroupCount, error) {
	out, err := db.QueryGroupCounts(ctx, q, 2, `SELECT to_status, source, count(*) FROM linkedin_account_status_audit WHERE from_status IS NOT NULL GROUP BY to_status, source`)
	if err != nil {
		return nil, fmt.Errorf("counting status flips: %w", err)
	}
	return out, nil
}
