// Package policy is the one decision of docs/sending.md#one-policy: given a
// snapshot of what is known about an account, an action and a campaign, and
// a time, may the action happen now — and if not, why and until when. It does
// no I/O. The send claim reads a snapshot under its locks and calls Decide;
// the diagnosis calls it on a snapshot read without locks, and the forecast
// on snapshots it simulates. Nothing else decides whether an action may
// happen, so the three cannot disagree.
package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
)

// Verdict codes: why an action may not happen now (docs/sending.md#gates).
const (
	CodeNotConnected = "account_not_connected"
	CodeCooldown     = "cooldown"
	CodeCredits      = "inmail_credits"
	CodeFreeInMail   = "inmail_free_tier"
	CodeWindow       = "window_closed"
	CodeDailyCap     = "daily_cap"
	CodeRamp         = "ramp_binding"
	CodeWeeklyCap    = "weekly_cap"
	CodeNotes        = "invitation_notes"
	CodeCampaignCap  = "campaign_cap"
	CodePacing       = "pacing"
	// CodeIncident is a provider incident (the burst guard is open): no
	// action calls the provider until it closes (docs/sending.md#incidents).
	CodeIncident = "provider_incident"
	// CodeDoNotContact: the prospect is on the workspace's do-not-contact
	// list; the claim ends the enrollment (docs/contacts.md#do-not-contact).
	CodeDoNotContact = "do_not_contact"
	// CodePendingInvitations: the account has as many pending invitations
	// as its caps.invite_pending; invitations wait for an acceptance or a
	// withdrawal (docs/sending.md#pending-invitations).
	CodePendingInvitations = "pending_invitations"
	// CodeRecentlyWithdrawn: an invitation to the person was withdrawn (or
	// LinkedIn answered already_invited_recently) less than ReinviteWait
	// ago; the person is not invited again before (docs/sending.md#withdrawals).
	CodeRecentlyWithdrawn = "recently_withdrawn"
)

// ReinviteWait is how long LinkedIn refuses a new invitation to a person
// after one was withdrawn, and so how long Keel waits.
const ReinviteWait = 21 * 24 * time.Hour

// PendingRecheck is when invitations held by the pending cap are looked at
// again when no withdrawal is scheduled to free a slot sooner.
const PendingRecheck = 30 * time.Minute

// Block kinds: what holds an action on an account until a time.
const (
	BlockCooldown = "cooldown"
	BlockCredits  = "credits"
)

// Block is the latest active cooldown or breaker on the snapshot's action.
type Block struct {
	Kind  string
	Until time.Time
}

// Share is a campaign's daily share of the action on this account: its cap
// and what the campaign used of it today (UTC).
type Share struct {
	Cap, Used int
}

// Pacing is the gap an account keeps between two actions, resolved from
// its settings and the installation's floor (ForAccount).
type Pacing struct {
	// Spread spreads a day's remaining sends over what is left of the window.
	Spread         bool
	MinGap, MaxGap time.Duration
}

// ForAccount is an account's pacing with its gaps raised to the
// installation's floor (KEEL_MIN_SPACING), which wins over a setting made
// when the floor was lower.
func ForAccount(p account.Pacing, floor time.Duration) Pacing {
	minGap := max(time.Duration(p.MinGapSeconds)*time.Second, floor)
	maxGap := max(time.Duration(p.MaxGapSeconds)*time.Second, minGap)
	return Pacing{Spread: p.SpreadOverWindow, MinGap: minGap, MaxGap: maxGap}
}

// Snapshot is everything the decision reads. Readers fill it from the
// database (internal/send) or a simulation (internal/forecast).
type Snapshot struct {
	// Account carries status, tier, configured caps, window, time zone and
	// the ramp's start.
	Account account.Account
	Action  Action
	// WithNote is an invitation carrying a note (Free accounts have few).
	WithNote bool
	// UsedToday counts the account's counted sends of Action since the
	// start of the UTC day.
	UsedToday int
	// Week holds, for invitations, when each counted invitation of the 7
	// days before now was claimed, oldest first.
	Week []time.Time
	// Notes holds, for a Free account's invitation with a note, when each
	// counted invitation with a note of the 30 days before now was claimed,
	// oldest first.
	Notes []time.Time
	// Share is the campaign's share; nil when no campaign is involved (an
	// account's own diagnosis).
	Share *Share
	// Block is the latest active cooldown or breaker on Action, if any.
	Block *Block
	// NextAllowed is the account's spacing: when it may act next, whatever
	// the action.
	NextAllowed time.Time
	// SpreadUntil is when the next action of the snapshot's type may go
	// under the spread of the day's sends of that type over the window
	// (zero: none). Other action types do not wait for it
	// (docs/sending.md#pacing).
	SpreadUntil time.Time
	// IncidentUntil is when the provider incident guard (the burst guard)
	// stops holding every action (zero: no incident).
	IncidentUntil time.Time
	// Pacing is the account's resolved pacing.
	Pacing Pacing
	// Listed says the claim's prospect is on the do-not-contact list; Person
	// names them. Both are empty when no prospect is involved (an
	// account's own diagnosis).
	Listed bool
	Person string
	// Pending counts, for invitations, the account's pending invitations
	// (Keel's and those made outside it) plus Keel's invitations in flight.
	Pending int
	// PendingFrees is when the account's oldest withdrawable pending
	// invitation is due for withdrawal (zero: none is).
	PendingFrees time.Time
	// WithdrawnUntil is, for an invitation, when LinkedIn's re-invite wait
	// for the person ends after a withdrawal (zero: none).
	WithdrawnUntil time.Time
}

// Draw holds the random numbers in [0,1) a decision uses for its gap, so
// that it stays a function of its inputs.
type Draw struct {
	Gap, Spread float64
}

// Verdict is the answer: Allowed with the Gap (spacing) to keep after the
// action before any action, and SpreadUntil (zero: none) before the next
// action of the same type; or the Code, a Message for people and when it
// clears (Until; zero when no time is known).
type Verdict struct {
	Allowed     bool
	Gap         time.Duration
	SpreadUntil time.Time
	Code        string
	Message     string
	Until       time.Time
	// ThisActionOnly marks a hold that concerns only the snapshot's action
	// type (the spread of its day's sends); other action types of the
	// account may go meanwhile, so the held prospects are parked rather
	// than left due in front of them.
	ThisActionOnly bool
}

// Decide applies docs/sending.md#gates in order to s at now.
func Decide(s Snapshot, now time.Time, d Draw) Verdict {
	if s.Listed {
		return Verdict{Code: CodeDoNotContact, Message: fmt.Sprintf("%s is on the do-not-contact list.", s.Person)}
	}
	a := s.Account
	who := Label(a)
	if s.Action == ActionInvite && s.WithdrawnUntil.After(now) {
		_, loc := AccountWindow(a)
		return Verdict{Code: CodeRecentlyWithdrawn, Until: s.WithdrawnUntil, Message: fmt.Sprintf(
			"An invitation to %s was withdrawn less than three weeks ago; LinkedIn refuses a new one before %s.",
			s.Person, When(s.WithdrawnUntil, loc, now))}
	}
	if a.Status != account.StatusConnected {
		msg := fmt.Sprintf("Sender %s is %s.", who, a.Status)
		if a.LastError != "" {
			msg += " " + a.LastError
		}
		return Verdict{Code: CodeNotConnected, Message: msg}
	}
	win, loc := AccountWindow(a)
	at := func(t time.Time) string { return When(t, loc, now) }
	if s.IncidentUntil.After(now) {
		return Verdict{Code: CodeIncident, Until: s.IncidentUntil, Message: fmt.Sprintf(
			"Unipile is having an incident (a burst of 404s tripped the guard); sender %s calls nothing until %s, and no prospect uses a try meanwhile.",
			who, at(s.IncidentUntil))}
	}
	if b := s.Block; b != nil && b.Until.After(now) {
		if b.Kind == BlockCredits {
			return Verdict{Code: CodeCredits, Until: b.Until, Message: fmt.Sprintf(
				"Sender %s has no InMail credits; InMails wait until %s or a recorded top-up. Other actions continue.", who, at(b.Until))}
		}
		return Verdict{Code: CodeCooldown, Until: b.Until, Message: fmt.Sprintf(
			"Sender %s got a LinkedIn limit signal for %s; they cool down until %s.", who, Plural(s.Action, 2), at(b.Until))}
	}
	if s.Action == ActionReply {
		// A person answering a person: no window, cap or pacing holds it,
		// but it counts as a message (docs/inbox.md#replying).
		return Verdict{Allowed: true}
	}
	eff := EffectiveDaily(a, s.Action, now)
	if s.Action == ActionInMail && DailyCap(Ceilings(a.Tier), ActionInMail) == 0 {
		return Verdict{Code: CodeFreeInMail, Message: fmt.Sprintf("Free accounts cannot send InMails (sender %s is Free).", who)}
	}
	if !win.Contains(now, loc) {
		opens := win.NextOpen(now, loc)
		return Verdict{Code: CodeWindow, Until: opens, Message: fmt.Sprintf(
			"Sender %s is outside its sending window (%s); it opens at %s.", who, WindowText(a), at(opens))}
	}
	day := UTCDayStart(now)
	tomorrow := day.Add(24 * time.Hour)
	if s.Action == ActionInvite && s.Pending >= a.Caps.InvitePending {
		return pendingVerdict(s, win, loc, now)
	}
	if s.UsedToday >= eff.Cap {
		until := win.NextOpen(tomorrow, loc)
		if eff.Binding == BindingRamp {
			return Verdict{Code: CodeRamp, Until: until, Message: fmt.Sprintf(
				"Sender %s reached its ramped daily %s cap (%d, week %d of 5 of its ramp); it resets at %s.",
				who, Noun(s.Action), eff.Cap, RampWeek(a.RampStartedAt, now), at(until))}
		}
		return Verdict{Code: CodeDailyCap, Until: until, Message: fmt.Sprintf(
			"Sender %s reached its daily %s cap (%d, %s); it resets at %s.", who, Noun(s.Action), eff.Cap, eff.Binding, at(until))}
	}
	if s.Action == ActionInvite {
		weff := EffectiveWeeklyInvites(a, now)
		if used := countSince(s.Week, now.Add(-7*24*time.Hour)); used >= weff.Cap {
			until := win.NextOpen(WeekFrees(s.Week, weff.Cap, now).Add(time.Second), loc)
			return Verdict{Code: CodeWeeklyCap, Until: until, Message: fmt.Sprintf(
				"Sender %s reached its 7-day invitation cap (%d, %s); the next slot frees at %s.", who, weff.Cap, weff.Binding, at(until))}
		}
		if a.Tier == account.TierFree && s.WithNote {
			if notes := countSince(s.Notes, now.Add(-30*24*time.Hour)); notes >= FreeNotesPer30Days {
				oldest := s.Notes[len(s.Notes)-notes]
				until := win.NextOpen(oldest.Add(30*24*time.Hour+time.Second), loc)
				return Verdict{Code: CodeNotes, Until: until, Message: fmt.Sprintf(
					"Sender %s (Free) used its %d invitation notes of 30 days; invitations with a note wait until %s.",
					who, FreeNotesPer30Days, at(until))}
			}
		}
	}
	remaining := eff.Cap - s.UsedToday
	if sh := s.Share; sh != nil {
		if sh.Used >= sh.Cap {
			until := win.NextOpen(tomorrow, loc)
			return Verdict{Code: CodeCampaignCap, Until: until, Message: fmt.Sprintf(
				"The campaign's daily %s share on sender %s is used (%d); it resets at %s.", Noun(s.Action), who, sh.Cap, at(until))}
		}
		remaining = min(remaining, sh.Cap-sh.Used)
	}
	closes := win.CloseAfter(now, loc)
	// Spacing holds every action; the spread holds only the next action of
	// its type, so a follow-up never waits behind the spread of the day's
	// invitations (docs/sending.md#pacing).
	wait := s.NextAllowed
	if s.SpreadUntil.After(wait) {
		wait = s.SpreadUntil
	}
	if wait.After(now) {
		v := Verdict{Code: CodePacing, Until: wait,
			Message: fmt.Sprintf("Sender %s keeps %s between two actions; next at %s.", who, gapText(s.Pacing), at(wait))}
		if s.SpreadUntil.After(s.NextAllowed) {
			v.ThisActionOnly = true
			v.Message = fmt.Sprintf("%d %s left today are spread over the window until %s; the next %s at %s (other actions only keep the %s spacing).",
				remaining, Plural(s.Action, remaining), closes.In(loc).Format("15:04"), Noun(s.Action), at(wait), gapText(s.Pacing))
		}
		return v
	}
	gap := s.Pacing.MinGap
	if s.Pacing.MaxGap > s.Pacing.MinGap {
		gap += time.Duration(d.Gap * float64(s.Pacing.MaxGap-s.Pacing.MinGap))
	}
	v := Verdict{Allowed: true, Gap: gap}
	// Spread the day's remaining sends of this action over what is left of
	// the window, never closer than the spacing allows.
	if left := closes.Sub(now); s.Pacing.Spread && remaining > 1 && left > 0 {
		spread := time.Duration(float64(left/time.Duration(remaining)) * (0.8 + 0.4*d.Spread))
		if spread = min(spread, left); spread > gap {
			v.SpreadUntil = now.Add(spread)
		}
	}
	return v
}

// pendingVerdict holds invitations at the pending cap until the oldest
// withdrawable invitation is due (an acceptance or a withdrawal makes the
// held prospects due at once: docs/sending.md#re-evaluation).
func pendingVerdict(s Snapshot, win Window, loc *time.Location, now time.Time) Verdict {
	a := s.Account
	msg := fmt.Sprintf("Sender %s has %d pending invitations (its cap is %d); invitations wait until one is accepted or withdrawn",
		Label(a), s.Pending, a.Caps.InvitePending)
	until := s.PendingFrees
	switch {
	case a.WithdrawAfterDays == 0:
		return Verdict{Code: CodePendingInvitations, Until: now.Add(PendingRecheck),
			Message: msg + "; withdrawals are off for this sender, so only acceptances free a slot."}
	case until.IsZero():
		return Verdict{Code: CodePendingInvitations, Until: now.Add(PendingRecheck),
			Message: msg + fmt.Sprintf("; none of Keel's is older than %d days yet.", a.WithdrawAfterDays)}
	case !until.After(now):
		until = now.Add(PendingRecheck)
	}
	until = win.NextOpen(until, loc)
	return Verdict{Code: CodePendingInvitations, Until: until, Message: msg + fmt.Sprintf(
		"; Keel withdraws its oldest at %s (after %d days).", When(until, loc, now), a.WithdrawAfterDays)}
}

// countSince counts the times at or after since in an ascending list.
func countSince(ts []time.Time, since time.Time) int {
	n := 0
	for i := len(ts) - 1; i >= 0 && !ts[i].Before(since); i-- {
		n++
	}
	return n
}

// WeekFrees is when a rolling 7-day window holding the claim times ts
// (ascending) has room for one more action under limit: when the
// (used-limit+1)-th oldest of them ages out. A limit of zero or less never
// frees by ageing; it is looked at again at the next UTC day, when the ramp
// or the settings may have moved it.
func WeekFrees(ts []time.Time, limit int, now time.Time) time.Time {
	if limit <= 0 {
		return UTCDayStart(now).Add(24 * time.Hour)
	}
	since := now.Add(-7 * 24 * time.Hour)
	used := countSince(ts, since)
	if used < limit {
		return now
	}
	first := len(ts) - used
	return ts[first+used-limit].UTC().Add(7 * 24 * time.Hour)
}

// Label is how sentences name an account.
func Label(a account.Account) string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

// WindowText is an account's window for sentences: "mon–fri 09:00–18:00, Europe/Paris".
func WindowText(a account.Account) string {
	return fmt.Sprintf("%s %s–%s, %s", strings.Join(a.Window.Days, ","), a.Window.Start, a.Window.End, a.Timezone)
}

// When shows t for a sentence in loc: the time of day when it is on now's
// local day, else with its weekday and date; always with the zone's name.
func When(t time.Time, loc *time.Location, now time.Time) string {
	lt, ln := t.In(loc), now.In(loc)
	layout := "Mon 2 Jan 15:04"
	switch {
	case lt.Format(time.DateOnly) == ln.Format(time.DateOnly):
		layout = "15:04"
	case lt.Year() != ln.Year():
		layout = "Mon 2 Jan 2006 15:04"
	}
	return lt.Format(layout) + " (" + loc.String() + ")"
}

func gapText(p Pacing) string {
	if p.MaxGap <= p.MinGap {
		return p.MinGap.String()
	}
	return p.MinGap.String() + "–" + p.MaxGap.String()
}

// Noun is an action's name in sentences ("invitation", "InMail", …).
func Noun(a Action) string {
	switch a {
	case ActionInvite:
		return "invitation"
	case ActionMessage:
		return "message"
	case ActionInMail:
		return "InMail"
	case ActionViewProfile:
		return "profile view"
	case ActionWithdraw:
		return "withdrawal"
	case ActionReply:
		return "reply"
	}
	return string(a)
}

// Plural is Noun for n of them.
func Plural(a Action, n int) string {
	if n == 1 {
		return Noun(a)
	}
	return Noun(a) + "s"
}
