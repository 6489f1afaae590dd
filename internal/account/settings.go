package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Caps are an account's configured per-action limits.
type Caps struct {
	InviteDaily      int `json:"invite_daily"`
	InviteWeekly     int `json:"invite_weekly"`
	MessageDaily     int `json:"message_daily"`
	InMailDaily      int `json:"inmail_daily"`
	ViewProfileDaily int `json:"view_profile_daily"`
	// InvitePending caps the account's pending invitations: sent, not yet
	// accepted or withdrawn (docs/sending.md#pending-invitations).
	InvitePending int `json:"invite_pending"`
	// WithdrawDaily caps the withdrawals of one UTC day
	// (docs/sending.md#withdrawals).
	WithdrawDaily int `json:"withdraw_daily"`
}

// DefaultCaps are a new account's configured caps (docs/sending.md#caps-and-ceilings).
var DefaultCaps = Caps{InviteDaily: 20, InviteWeekly: 100, MessageDaily: 50, InMailDaily: 10, ViewProfileDaily: 40,
	InvitePending: 400, WithdrawDaily: 50}

// Ceilings are the hard limits of a tier; configuration can never raise a
// cap above them. The linkedin_accounts_cap_*_chk constraints hold the same
// numbers.
func Ceilings(t Tier) Caps {
	if t == TierFree || t == "" {
		return Caps{InviteDaily: 30, InviteWeekly: 100, MessageDaily: 150, InMailDaily: 0, ViewProfileDaily: 100,
			InvitePending: PendingCeiling, WithdrawDaily: WithdrawCeiling}
	}
	return Caps{InviteDaily: 100, InviteWeekly: 200, MessageDaily: 150, InMailDaily: 50, ViewProfileDaily: 100,
		InvitePending: PendingCeiling, WithdrawDaily: WithdrawCeiling}
}

// PendingCeiling is the most pending invitations any account may keep:
// LinkedIn stops an account near 700 (linkedin_accounts_cap_invite_pending_chk
// holds the same number).
const PendingCeiling = 700

// WithdrawCeiling is the most withdrawals of one UTC day
// (linkedin_accounts_cap_withdraw_daily_chk).
const WithdrawCeiling = 100

// DefaultWithdrawAfterDays is a new account's withdraw_after_days: pending
// invitations older than that are withdrawn (0 would mean never).
const DefaultWithdrawAfterDays = 21

// Withdraw-after bounds: 0 (never) or MinWithdrawAfterDays–MaxWithdrawAfterDays
// (linkedin_accounts_withdraw_after_days_chk).
const (
	MinWithdrawAfterDays = 7
	MaxWithdrawAfterDays = 180
)

// Clamp lowers each cap to the tier's ceiling.
func (c Caps) Clamp(t Tier) Caps {
	ceil := Ceilings(t)
	return Caps{
		InviteDaily: min(c.InviteDaily, ceil.InviteDaily), InviteWeekly: min(c.InviteWeekly, ceil.InviteWeekly),
		MessageDaily: min(c.MessageDaily, ceil.MessageDaily), InMailDaily: min(c.InMailDaily, ceil.InMailDaily),
		ViewProfileDaily: min(c.ViewProfileDaily, ceil.ViewProfileDaily),
		InvitePending:    min(c.InvitePending, ceil.InvitePending), WithdrawDaily: min(c.WithdrawDaily, ceil.WithdrawDaily),
	}
}

// Pacing is an account's pacing settings: the gap kept between two of its
// actions, and whether a day's remaining sends are spread over what is left
// of the window (docs/sending.md#pacing).
type Pacing struct {
	SpreadOverWindow bool `json:"spread_over_window"`
	MinGapSeconds    int  `json:"min_gap_seconds"`
	MaxGapSeconds    int  `json:"max_gap_seconds"`
}

// DefaultPacing is a new account's pacing: spread, 60–180 s gaps.
var DefaultPacing = Pacing{SpreadOverWindow: true, MinGapSeconds: 60, MaxGapSeconds: 180}

// MaxGapCeiling is the longest gap pacing may keep between two actions
// (one hour); linkedin_accounts_pacing_max_gap_chk holds the same number.
const MaxGapCeiling = 3600

// validate checks pacing against the installation's floor (floor, the
// least gap between two actions of one account) and the ceiling, naming
// each bad field; maxSent says whether the patch set max_gap_seconds.
func (p Pacing) validate(floor time.Duration, maxSent bool) []*CapError {
	var errs []*CapError
	floorSeconds := int((floor + time.Second - 1) / time.Second)
	floorSeconds = max(floorSeconds, 1)
	switch {
	case p.MinGapSeconds < floorSeconds:
		errs = append(errs, &CapError{Field: "pacing.min_gap_seconds", Msg: fmt.Sprintf(
			"%d s is below this installation's least gap of %d s (KEEL_MIN_SPACING)", p.MinGapSeconds, floorSeconds)})
	case p.MinGapSeconds > MaxGapCeiling:
		errs = append(errs, &CapError{Field: "pacing.min_gap_seconds", Ceiling: MaxGapCeiling,
			Msg: fmt.Sprintf("%d s is above the longest gap of %d s", p.MinGapSeconds, MaxGapCeiling)})
	}
	switch {
	case p.MaxGapSeconds > MaxGapCeiling:
		errs = append(errs, &CapError{Field: "pacing.max_gap_seconds", Ceiling: MaxGapCeiling,
			Msg: fmt.Sprintf("%d s is above the longest gap of %d s", p.MaxGapSeconds, MaxGapCeiling)})
	case p.MaxGapSeconds < p.MinGapSeconds && !maxSent:
		// Only the minimum was sent: it is what went past the stored
		// maximum (unless it is already named for another reason).
		if len(errs) > 0 {
			break
		}
		errs = append(errs, &CapError{Field: "pacing.min_gap_seconds", Msg: fmt.Sprintf(
			"%d s is above max_gap_seconds (%d s); raise max_gap_seconds with it", p.MinGapSeconds, p.MaxGapSeconds)})
	case p.MaxGapSeconds < p.MinGapSeconds:
		errs = append(errs, &CapError{Field: "pacing.max_gap_seconds", Msg: fmt.Sprintf(
			"%d s is below min_gap_seconds (%d s); the longest gap cannot be shorter than the shortest", p.MaxGapSeconds, p.MinGapSeconds)})
	}
	return errs
}

// CapError is a configured cap out of range; it names the ceiling.
type CapError struct {
	Field   string `json:"field"`
	Ceiling int    `json:"ceiling"`
	Msg     string `json:"message"`
}

func (e *CapError) Error() string { return e.Field + ": " + e.Msg }

// Validate checks configured caps against a tier's ceilings.
func (c Caps) Validate(t Tier) []*CapError {
	ceil := Ceilings(t)
	var errs []*CapError
	check := func(field string, v, max int) {
		switch {
		case v < 0:
			errs = append(errs, &CapError{Field: "caps." + field, Ceiling: max, Msg: "must not be negative"})
		case v > max:
			errs = append(errs, &CapError{Field: "caps." + field, Ceiling: max,
				Msg: fmt.Sprintf("%d is above the %s tier's hard ceiling of %d", v, t, max)})
		}
	}
	check("invite_daily", c.InviteDaily, ceil.InviteDaily)
	check("invite_weekly", c.InviteWeekly, ceil.InviteWeekly)
	check("message_daily", c.MessageDaily, ceil.MessageDaily)
	check("inmail_daily", c.InMailDaily, ceil.InMailDaily)
	check("view_profile_daily", c.ViewProfileDaily, ceil.ViewProfileDaily)
	check("invite_pending", c.InvitePending, ceil.InvitePending)
	check("withdraw_daily", c.WithdrawDaily, ceil.WithdrawDaily)
	return errs
}

// WindowSpec is a sending window as the API writes it: day names and
// HH:MM times in the account's timezone, end exclusive, "24:00" = end of day.
type WindowSpec struct {
	Days  []string `json:"days"`
	Start string   `json:"start"`
	End   string   `json:"end"`
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseWindowSpec validates a window and returns its stored form.
func ParseWindowSpec(w WindowSpec) (days string, start, end int, err error) {
	if len(w.Days) == 0 {
		return "", 0, 0, errors.New("window.days: at least one day is required")
	}
	var out []string
	for _, d := range w.Days {
		d = strings.ToLower(strings.TrimSpace(d))
		known := false
		for _, n := range weekdays {
			known = known || n == d
		}
		if !known {
			return "", 0, 0, fmt.Errorf("window.days: %q is not one of mon, tue, wed, thu, fri, sat, sun", d)
		}
		dup := false
		for _, o := range out {
			dup = dup || o == d
		}
		if !dup {
			out = append(out, d)
		}
	}
	if start, err = clockMinutes(w.Start, false); err != nil {
		return "", 0, 0, fmt.Errorf("window.start: %v", err)
	}
	if end, err = clockMinutes(w.End, true); err != nil {
		return "", 0, 0, fmt.Errorf("window.end: %v", err)
	}
	if end <= start {
		return "", 0, 0, fmt.Errorf("window.end: %s must be later than start %s (end is exclusive)", w.End, w.Start)
	}
	return strings.Join(out, ","), start, end, nil
}

func clockMinutes(s string, allow24 bool) (int, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && (m != 0 || !allow24)) {
		return 0, fmt.Errorf("%q is not a time of day", s)
	}
	return h*60 + m, nil
}

func windowSpec(days string, start, end int) WindowSpec {
	return WindowSpec{Days: strings.Split(days, ","), Start: fmt.Sprintf("%02d:%02d", start/60, start%60),
		End: fmt.Sprintf("%02d:%02d", end/60, end%60)}
}

// Settings is the part of an account a user may change.
type SettingsPatch struct {
	Tier     *Tier        `json:"tier"`
	Timezone *string      `json:"timezone"`
	Window   *WindowSpec  `json:"window"`
	Caps     *CapsPatch   `json:"caps"`
	Pacing   *PacingPatch `json:"pacing"`
	// WithdrawAfterDays: 0 (never) or 7–180.
	WithdrawAfterDays *int `json:"withdraw_after_days"`
	// Actor says who makes the change ("token:…", "user:…"); a tier
	// change is recorded with it.
	Actor string `json:"-"`
}

// CapsPatch sets some caps.
type CapsPatch struct {
	InviteDaily      *int `json:"invite_daily"`
	InviteWeekly     *int `json:"invite_weekly"`
	MessageDaily     *int `json:"message_daily"`
	InMailDaily      *int `json:"inmail_daily"`
	ViewProfileDaily *int `json:"view_profile_daily"`
	InvitePending    *int `json:"invite_pending"`
	WithdrawDaily    *int `json:"withdraw_daily"`
}

// PacingPatch sets some of an account's pacing settings; the others keep
// their stored values.
type PacingPatch struct {
	SpreadOverWindow *bool `json:"spread_over_window"`
	MinGapSeconds    *int  `json:"min_gap_seconds"`
	MaxGapSeconds    *int  `json:"max_gap_seconds"`
}

// SettingsHook runs inside the transaction of a settings change, after the
// row is written: before and after are the account on either side. It is
// how other packages act on a change (making parked enrollments due again,
// docs/sending.md#re-evaluation) without this package knowing them. An
// error rolls the change back. A hook must use tx only.
type SettingsHook func(ctx context.Context, tx *sql.Tx, before, after Account) error

type namedSettingsHook struct {
	name string
	fn   SettingsHook
}

// OnSettingsChanged registers a hook run by every successful settings
// change, in registration order.
func (s *Service) OnSettingsChanged(name string, fn SettingsHook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settingsChanged = append(s.settingsChanged, namedSettingsHook{name: name, fn: fn})
}

// GatesChanged reports whether a settings change touched anything a
// sending gate reads: tier, timezone, window, caps or pacing.
func GatesChanged(before, after Account) bool {
	return before.Tier != after.Tier || before.Timezone != after.Timezone ||
		before.windowDays != after.windowDays || before.windowStart != after.windowStart || before.windowEnd != after.windowEnd ||
		before.Caps != after.Caps || before.Pacing != after.Pacing || before.WithdrawAfterDays != after.WithdrawAfterDays
}

// ValidationError lists what is wrong with a settings patch, field by field.
type ValidationError struct {
	Fields []*CapError
}

func (e *ValidationError) Error() string {
	var parts []string
	for _, f := range e.Fields {
		parts = append(parts, f.Error())
	}
	return "invalid settings: " + strings.Join(parts, "; ")
}

// ValidateSettings checks a patch against an account as UpdateSettings
// would and changes nothing: a *ValidationError lists every bad field. A
// form that could not even read some of its fields calls it with the
// others, so one submit shows every error (docs/surfaces.md#forms).
func (s *Service) ValidateSettings(ctx context.Context, workspaceID, accountID string, p SettingsPatch) error {
	a, err := s.Get(ctx, s.db.SQL, workspaceID, accountID)
	if err != nil {
		return err
	}
	_, err = s.applySettings(a, p)
	return err
}

// WindowProblems is every problem of a window spec, field by field (days,
// start, end), where ParseWindowSpec stops at the first.
func WindowProblems(w WindowSpec) []*CapError {
	var out []*CapError
	add := func(err error) {
		field, msg, _ := strings.Cut(err.Error(), ": ")
		out = append(out, &CapError{Field: field, Msg: msg})
	}
	if _, _, _, err := ParseWindowSpec(WindowSpec{Days: w.Days, Start: "00:00", End: "24:00"}); err != nil {
		add(err)
	}
	start, serr := clockMinutes(w.Start, false)
	if serr != nil {
		add(fmt.Errorf("window.start: %v", serr))
	}
	end, eerr := clockMinutes(w.End, true)
	if eerr != nil {
		add(fmt.Errorf("window.end: %v", eerr))
	}
	if serr == nil && eerr == nil && end <= start {
		add(fmt.Errorf("window.end: %s must be later than start %s (end is exclusive)", w.End, w.Start))
	}
	return out
}
