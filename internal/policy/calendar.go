package policy

// This file holds the numbers and calendars the decision reads: caps and
// ceilings, the ramp, the sending window, UTC days.

import (
	"math"
	"strings"
	"sync"
	"time"

	"github.com/keel-outreach/keel/internal/account"
)

// Action is a kind of provider action with its own caps and breaker.
type Action string

// Actions.
const (
	ActionInvite      Action = "invite"
	ActionMessage     Action = "message"
	ActionInMail      Action = "inmail"
	ActionViewProfile Action = "view_profile"
	// ActionWithdraw withdraws a pending invitation Keel sent; it is no
	// step of a campaign (docs/sending.md#withdrawals).
	ActionWithdraw Action = "withdraw"
	// ActionReply is a message typed by a person in the inbox; it is no
	// step of a campaign and counts as a message (docs/inbox.md#replying).
	ActionReply Action = "reply"
)

// Actions lists every action in display order.
var Actions = []Action{ActionInvite, ActionMessage, ActionInMail, ActionViewProfile, ActionWithdraw}

// Caps are per-action limits of one account (see account.Caps).
type Caps = account.Caps

// CapError is a configured cap above its ceiling or below zero.
type CapError = account.CapError

// DefaultCaps are a new account's configured caps.
var DefaultCaps = account.DefaultCaps

// FreeNotesPer30Days is how many invitation notes a free account may send
// in any 30 days.
const FreeNotesPer30Days = 5

// Ceilings are the hard limits for a tier.
func Ceilings(t account.Tier) Caps { return account.Ceilings(t) }

// DailyCap returns a daily cap of c for an action.
func DailyCap(c Caps, a Action) int {
	switch a {
	case ActionInvite:
		return c.InviteDaily
	case ActionMessage:
		return c.MessageDaily
	case ActionInMail:
		return c.InMailDaily
	case ActionViewProfile:
		return c.ViewProfileDaily
	case ActionWithdraw:
		return c.WithdrawDaily
	}
	return 0
}

// RampWeeks are the factors of an account's first five weeks in Keel.
var RampWeeks = []float64{0.25, 0.40, 0.60, 0.80, 1.0}

// RampFactor is the ramp factor at now for an account that started ramping
// at start: week 1 (days 0–6) 25%, …, week 5 onward 100%.
func RampFactor(start, now time.Time) float64 {
	if now.Before(start) {
		return RampWeeks[0]
	}
	week := int(now.Sub(start) / (7 * 24 * time.Hour))
	if week >= len(RampWeeks) {
		return 1
	}
	return RampWeeks[week]
}

// RampWeek is the 1-based ramp week at now (5 means fully ramped).
func RampWeek(start, now time.Time) int {
	if now.Before(start) {
		return 1
	}
	w := int(now.Sub(start)/(7*24*time.Hour)) + 1
	if w > len(RampWeeks) {
		w = len(RampWeeks)
	}
	return w
}

// RampFloor is the least a ramp lowers a configured cap to (a cap below
// it stays as configured).
const RampFloor = 5

// Ramped applies a ramp factor to a configured cap: never below RampFloor
// (or the configured cap if lower), never above the configured cap.
func Ramped(configured int, factor float64) int {
	floor := RampFloor
	if configured < floor {
		floor = configured
	}
	v := int(math.Floor(float64(configured)*factor + 1e-9))
	if v < floor {
		v = floor
	}
	if v > configured {
		v = configured
	}
	return v
}

// Binding names the limit that sets an effective cap.
type Binding string

// Bindings.
const (
	BindingCeiling    Binding = "ceiling"
	BindingConfigured Binding = "configured"
	BindingRamp       Binding = "ramp"
)

// Effective is an account's cap for one action and period.
type Effective struct {
	Cap     int
	Binding Binding
}

// EffectiveDaily is an account's effective daily cap for an action at now.
func EffectiveDaily(a account.Account, act Action, now time.Time) Effective {
	f := RampFactor(a.RampStartedAt, now)
	if act == ActionWithdraw {
		// Withdrawals lower what the account has outstanding: they do not
		// ramp.
		f = 1
	}
	return EffectiveCap(DailyCap(Ceilings(a.Tier), act), DailyCap(a.Caps, act), f)
}

// EffectiveWeeklyInvites is an account's effective rolling 7-day invite cap.
func EffectiveWeeklyInvites(a account.Account, now time.Time) Effective {
	f := RampFactor(a.RampStartedAt, now)
	return EffectiveCap(Ceilings(a.Tier).InviteWeekly, a.Caps.InviteWeekly, f)
}

// EffectiveCap is min(ceiling, ramped configured cap). Weekly invite caps
// ramp like daily ones. A campaign's share is applied on top by the caller.
func EffectiveCap(ceiling, configured int, factor float64) Effective {
	ramped := Ramped(configured, factor)
	switch {
	case ceiling <= ramped && ceiling <= configured:
		return Effective{Cap: ceiling, Binding: BindingCeiling}
	case ramped < configured:
		return Effective{Cap: ramped, Binding: BindingRamp}
	default:
		return Effective{Cap: configured, Binding: BindingConfigured}
	}
}

// Window is when an account may act, in its own timezone: days of the
// week and a start/end time of day (end exclusive).
type Window struct {
	Days  []time.Weekday
	Start int // minutes after local midnight
	End   int // minutes after local midnight, exclusive; 1440 is end of day
}

// DefaultWindow is Monday–Friday 09:00–18:00.
var DefaultWindow = Window{
	Days:  []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	Start: 9 * 60, End: 18 * 60,
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// AccountWindow is the sending window of an account in its time zone. A
// window or zone that no longer parses falls back to DefaultWindow and
// UTC (both are validated when they are set). Zones are loaded once per
// process: every gate check needs one, and loading reads the zone file.
func AccountWindow(a account.Account) (Window, *time.Location) {
	win, err := ParseWindow(a.Window.Days, a.Window.Start, a.Window.End)
	if err != nil {
		win = DefaultWindow
	}
	if loc, ok := zones.Load(a.Timezone); ok {
		return win, loc.(*time.Location)
	}
	loc, err := time.LoadLocation(a.Timezone)
	if err != nil {
		loc = time.UTC
	}
	zones.Store(a.Timezone, loc)
	return win, loc
}

var zones sync.Map // time zone name -> *time.Location

// ParseWindow reads the API's window (day names and "HH:MM" times) with
// the account package's validation, the one place windows are checked.
func ParseWindow(days []string, start, end string) (Window, error) {
	stored, from, to, err := account.ParseWindowSpec(account.WindowSpec{Days: days, Start: start, End: end})
	if err != nil {
		return Window{}, err
	}
	w := Window{Start: from, End: to}
	for _, d := range strings.Split(stored, ",") {
		for i, n := range dayNames {
			if d == n {
				w.Days = append(w.Days, time.Weekday(i))
			}
		}
	}
	return w, nil
}

func (w Window) hasDay(d time.Weekday) bool {
	for _, x := range w.Days {
		if x == d {
			return true
		}
	}
	return false
}

// localBounds gives the window's open and close instants on the local
// calendar day of t. time.Date resolves DST gaps and overlaps, so a window
// keeps its wall-clock meaning across the change.
func (w Window) localBounds(t time.Time, loc *time.Location) (time.Time, time.Time) {
	lt := t.In(loc)
	y, mo, d := lt.Date()
	open := time.Date(y, mo, d, w.Start/60, w.Start%60, 0, 0, loc)
	close := time.Date(y, mo, d, w.End/60, w.End%60, 0, 0, loc) // 24:00 normalises to next midnight
	return open, close
}

// Contains reports whether t is inside the window in loc.
func (w Window) Contains(t time.Time, loc *time.Location) bool {
	if !w.hasDay(t.In(loc).Weekday()) {
		return false
	}
	open, close := w.localBounds(t, loc)
	return !t.Before(open) && t.Before(close)
}

// NextOpen is the first instant at or after t inside the window.
func (w Window) NextOpen(t time.Time, loc *time.Location) time.Time {
	if len(w.Days) == 0 || w.End <= w.Start {
		return time.Time{}
	}
	if w.Contains(t, loc) {
		return t
	}
	day := t
	for i := 0; i < 8; i++ {
		if w.hasDay(day.In(loc).Weekday()) {
			open, _ := w.localBounds(day, loc)
			if !open.Before(t) {
				return open.UTC()
			}
		}
		lt := day.In(loc)
		day = time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, loc)
	}
	return time.Time{}
}

// CloseAfter is when the window that contains t closes.
func (w Window) CloseAfter(t time.Time, loc *time.Location) time.Time {
	_, close := w.localBounds(t, loc)
	return close.UTC()
}

// UTCDayStart is the start of t's UTC day (daily caps reset at UTC midnight).
func UTCDayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// NextMonthStart is the 1st of the month after t, 00:00 UTC (the InMail
// credit breaker's end).
func NextMonthStart(t time.Time) time.Time {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
}

// CooldownAfterLimit is how long a provider limit signal pauses that action
// on that account.
const CooldownAfterLimit = 5 * time.Hour
