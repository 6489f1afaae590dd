package account

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/logging"
)

// Account is one LinkedIn account as stored.
type Account struct {
	ID                string     `json:"id"`
	WorkspaceID       string     `json:"workspace_id"`
	ProviderAccountID string     `json:"provider_account_id"`
	Name              string     `json:"name"`
	Status            Status     `json:"status"`
	LastError         string     `json:"last_error"`
	DisconnectedAt    *time.Time `json:"disconnected_at"`
	DisconnectedBy    string     `json:"disconnected_by"`
	Strikes           int        `json:"strikes"`
	Tier              Tier       `json:"tier"`
	Timezone          string     `json:"timezone"`
	Window            WindowSpec `json:"window"`
	Caps              Caps       `json:"caps"`
	// Pacing is how the account's actions are spaced (docs/sending.md#pacing).
	Pacing Pacing `json:"pacing"`
	// WithdrawAfterDays is the age in days after which a pending invitation
	// is withdrawn; 0 never (docs/sending.md#withdrawals).
	WithdrawAfterDays int `json:"withdraw_after_days"`
	// RampStartedAt is the account's first day in Keel, where its five-week
	// ramp begins.
	RampStartedAt time.Time `json:"ramp_started_at"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	// ProviderFeatures are the premium features Unipile last reported for
	// the account ("premium", "sales_navigator", "recruiter"; empty: a
	// free account); nil when it never reported them. They bound the tier.
	// ProviderFeaturesAt is when a report first said what they are now.
	ProviderFeatures   []string   `json:"provider_premium_features"`
	ProviderFeaturesAt *time.Time `json:"provider_premium_features_at"`
	// TierChangedBy and TierChangedAt say who last changed the tier and
	// when (empty / nil: never changed since the account was created).
	TierChangedBy string     `json:"tier_changed_by"`
	TierChangedAt *time.Time `json:"tier_changed_at"`
	// Tags are the account's tags, alphabetically (docs/accounts.md#tags).
	// The account reads leave them nil; LoadTags fills them for the
	// callers that show them (the API, the CLI). Nil is written as [].
	Tags []string `json:"tags"`
	// SettingsUpdatedBy says who last saved the account's settings
	// ("user:<email>", "token:<id>", "cli"; empty: never saved)
	// (docs/teams.md#who-changed-what).
	SettingsUpdatedBy string `json:"settings_updated_by"`

	windowDays             string
	windowStart, windowEnd int
}

// LastErrorTerminal reports whether the account's copy tells the user to act.
func (a Account) LastErrorTerminal() bool { return IsTerminal(a.LastError) }

// ReconnectNeeded is what decides the "Reconnect needed" pill: terminal copy
// on an account that is not connected, so the pill never disagrees with the
// status.
func (a Account) ReconnectNeeded() bool {
	return a.Status != StatusConnected && a.LastErrorTerminal()
}

// Service reads and writes accounts. Its Flip is the only status writer.
type Service struct {
	db    *db.DB
	clock clock.Clock
	// byID reads one account by id; byIDInWorkspace also matches its
	// workspace. Flip locks through the same queries with ForUpdate added.
	byID, byIDInWorkspace string

	// minGap is the installation's least gap between two actions of one
	// account (KEEL_MIN_SPACING): no account's pacing may go below it.
	minGap time.Duration

	// log receives one line per committed flip.
	log *slog.Logger

	mu              sync.RWMutex
	consequences    []namedConsequence
	confirmed       []namedConfirmation
	settingsChanged []namedSettingsHook
}

// Option configures a Service.
type Option func(*Service)

// WithLogger sets where committed flips are logged (nowhere without it).
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.log = l }
}

// WithMinGap sets the installation's floor for an account's pacing gaps
// (KEEL_MIN_SPACING); settings that go below it are refused. Without it
// the floor is one second, what the database allows.
func WithMinGap(d time.Duration) Option {
	return func(s *Service) { s.minGap = d }
}

// NewService returns a Service on database d.
func NewService(d *db.DB, c clock.Clock, opts ...Option) *Service {
	if c == nil {
		c = clock.Real{}
	}
	byID := `SELECT ` + selectColumns + ` FROM linkedin_accounts WHERE id = $1`
	s := &Service{db: d, clock: c, byID: byID, byIDInWorkspace: byID + ` AND workspace_id = $2`, minGap: time.Second}
	for _, o := range opts {
		o(s)
	}
	s.log = logging.OrDiscard(s.log)
	// SQLite compiles a statement's triggers when it prepares it, so the
	// statements of every flip are prepared once here, outside any
	// transaction. Best effort: a statement that cannot be prepared (a
	// database not yet migrated) simply runs unprepared.
	_ = d.Prepare(context.Background(), s.lockQuery(false), s.lockQuery(true), insertAuditSQL, updateSoftSQL)
	return s
}

// DB returns the database the service writes to.
func (s *Service) DB() *db.DB { return s.db }

// Clock returns the service's clock.
func (s *Service) Clock() clock.Clock { return s.clock }

const selectColumns = `id, workspace_id, provider_account_id, name, status, last_error,
	disconnected_at, disconnected_by, strikes, tier, timezone, created_at, updated_at,
	window_days, window_start, window_end, cap_invite_daily, cap_invite_weekly, cap_message_daily,
	cap_inmail_daily, cap_view_profile_daily, ramp_started_at, provider_features, provider_features_at,
	tier_changed_by, tier_changed_at, pacing_spread, pacing_min_gap_seconds, pacing_max_gap_seconds,
	cap_invite_pending, cap_withdraw_daily, withdraw_after_days, settings_updated_by`

// Columns is the column list ScanWith reads, each qualified with alias, for
// queries that read an account in the same row as other tables (the
// scheduler reads the enrollment, campaign and account of a claim at once).
func Columns(alias string) string {
	cols := strings.Split(selectColumns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// ScanWith scans a row whose first columns are Columns(alias) into an
// Account, and the columns after them into extra.
func ScanWith(row interface{ Scan(dest ...any) error }, extra ...any) (Account, error) {
	var st accountScan
	if err := row.Scan(append(st.dest(), extra...)...); err != nil {
		return Account{}, err
	}
	return st.account(), nil
}

// accountScan holds the destinations of one scanned account row.
type accountScan struct {
	a          Account
	lastError  sql.NullString
	discAt     sql.NullTime
	discBy     sql.NullString
	rampAt     sql.NullTime
	features   sql.NullString
	featAt     sql.NullTime
	tierBy     sql.NullString
	tierAt     sql.NullTime
	settingsBy sql.NullString
}

func (st *accountScan) dest() []any {
	a := &st.a
	return []any{&a.ID, &a.WorkspaceID, &a.ProviderAccountID, &a.Name, &a.Status, &st.lastError,
		&st.discAt, &st.discBy, &a.Strikes, &a.Tier, &a.Timezone, &a.CreatedAt, &a.UpdatedAt,
		&a.windowDays, &a.windowStart, &a.windowEnd, &a.Caps.InviteDaily, &a.Caps.InviteWeekly, &a.Caps.MessageDaily,
		&a.Caps.InMailDaily, &a.Caps.ViewProfileDaily, &st.rampAt, &st.features, &st.featAt, &st.tierBy, &st.tierAt,
		&a.Pacing.SpreadOverWindow, &a.Pacing.MinGapSeconds, &a.Pacing.MaxGapSeconds,
		&a.Caps.InvitePending, &a.Caps.WithdrawDaily, &a.WithdrawAfterDays, &st.settingsBy}
}

func (st *accountScan) account() Account {
	a := st.a
	a.Window = windowSpec(a.windowDays, a.windowStart, a.windowEnd)
	a.RampStartedAt = a.CreatedAt.UTC()
	if st.rampAt.Valid {
		a.RampStartedAt = st.rampAt.Time.UTC()
	}
	a.LastError = st.lastError.String
	a.DisconnectedBy = st.discBy.String
	if st.discAt.Valid {
		t := st.discAt.Time.UTC()
		a.DisconnectedAt = &t
	}
	a.CreatedAt = a.CreatedAt.UTC()
	a.UpdatedAt = a.UpdatedAt.UTC()
	if st.features.Valid {
		a.ProviderFeatures = parseFeatures(st.features.String)
	}
	if st.featAt.Valid {
		t := st.featAt.Time.UTC()
		a.ProviderFeaturesAt = &t
	}
	a.TierChangedBy = st.tierBy.String
	a.SettingsUpdatedBy = st.settingsBy.String
	if st.tierAt.Valid {
		t := st.tierAt.Time.UTC()
		a.TierChangedAt = &t
	}
	return a
}

// NewAccount describes an account to create.
type NewAccount struct {
	WorkspaceID       string
	ProviderAccountID string
	Name              string
	// Status is the first status: connecting for a hosted-auth creation,
	// or what the provider reports for a sync.
	Status   Status
	Tier     Tier
	Timezone string
}

// ListOptions filters and pages List.
type ListOptions struct {
	// WorkspaceID limits the list to one workspace; empty lists all.
	WorkspaceID string
	// After is the last id of the previous page (keyset pagination).
	After string
	// Limit caps the page; 0 means no cap.
	Limit int
	// Tag, when set, keeps the accounts carrying this tag.
	Tag string
}

// MarshalJSON adds last_error_terminal, the flag API clients and the UI use
// to decide the "Reconnect needed" pill.
func (a Account) MarshalJSON() ([]byte, error) {
	type plain Account
	if a.Tags == nil {
		a.Tags = []string{}
	}
	return json.Marshal(struct {
		plain
		LastErrorTerminal bool `json:"last_error_terminal"`
		ReconnectNeeded   bool `json:"reconnect_needed"`
	}{plain(a), a.LastErrorTerminal(), a.ReconnectNeeded()})
}
