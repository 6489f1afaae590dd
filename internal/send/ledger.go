package send

import (
	"context"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
)

// State is a ledger row's state.
type State string

// Ledger states.
const (
	StateIntent     State = "intent"
	StateDispatched State = "dispatched"
	StateConfirmed  State = "confirmed"
	StateFailed     State = "failed"
	StateUnknown    State = "unknown"
	StateCancelled  State = "cancelled"
)

// CountedStates are the rows that use up a cap, as an SQL list for IN:
// everything that reached, may have reached, or is about to reach LinkedIn.
const CountedStates = `('intent', 'dispatched', 'confirmed', 'unknown')`

// Limit is one row of GET /api/v1/accounts/{id}/limits.
type Limit struct {
	Action    Action    `json:"action"`
	Period    string    `json:"period"`
	Cap       int       `json:"cap"`
	Binding   Binding   `json:"binding"`
	Used      int       `json:"used"`
	Remaining int       `json:"remaining"`
	ResetsAt  time.Time `json:"resets_at"`
}

// EffectiveDaily is an account's effective daily cap for an action at now.
func EffectiveDaily(a account.Account, act Action, now time.Time) Effective {
	f := RampFactor(a.RampStartedAt, now)
	return EffectiveCap(DailyCap(Ceilings(a.Tier), act), DailyCap(a.Caps, act), f)
}

// EffectiveWeeklyInvites is an account's effective rolling 7-day invite cap.
func EffectiveWeeklyInvites(a account.Account, now time.Time) Effective {
	f := RampFactor(a.RampStartedAt, now)
	return EffectiveCap(Ceilings(a.Tier).InviteWeekly, a.Caps.InviteWeekly, f)
}

// Limits reads an account's caps, usage and reset times from the ledger.
func Limits(ctx context.Context, q db.Querier, a account.Account, now time.Time) ([]Limit, error) {
	all, err := LimitsFor(ctx, q, []account.Account{a}, now)
	return all[a.ID], err
}

// LimitsFor is Limits for several accounts (a page of them): one grouped
// ledger query, plus one per account whose rolling weekly invite window is
// full, to find when it frees.
func LimitsFor(ctx context.Context, q db.Querier, accs []account.Account, now time.Time) (map[string][]Limit, error) {
	out := make(map[string][]Limit, len(accs))
	if len(accs) == 0 {
		return out, nil
	}
	day := UTCDayStart(now)
	since := now.Add(-7 * 24 * time.Hour)
	ids := make([]string, len(accs))
	for i, a := range accs {
		ids[i] = a.ID
	}
	today, week, err := ledgerCounts(ctx, q, ids, day, since)
	if err != nil {
		return nil, err
	}
	for _, a := range accs {
		var ls []Limit
		for _, act := range Actions {
			eff := EffectiveDaily(a, act, now)
			used := today[usageKey{a.ID, act}]
			ls = append(ls, Limit{Action: act, Period: "day", Cap: eff.Cap, Binding: eff.Binding, Used: used,
				Remaining: max(0, eff.Cap-used), ResetsAt: day.Add(24 * time.Hour)})
			if act == ActionInvite {
				weff := EffectiveWeeklyInvites(a, now)
				wused := week[usageKey{a.ID, act}]
				resets, err := weekFrees(ctx, q, a.ID, act, now, wused, weff.Cap)
				if err != nil {
					return nil, err
				}
				ls = append(ls, Limit{Action: act, Period: "7d", Cap: weff.Cap, Binding: weff.Binding, Used: wused,
					Remaining: max(0, weff.Cap-wused), ResetsAt: resets})
			}
		}
		out[a.ID] = ls
	}
	return out, nil
}

// Block is an active cooldown or breaker.
type Block struct {
	AccountID string    `json:"account_id"`
	Action    Action    `json:"action"`
	Kind      string    `json:"kind"`
	Until     time.Time `json:"until"`
	Reason    string    `json:"reason"`
}

// Block kinds.
const (
	BlockCooldown = "cooldown"
	BlockCredits  = "credits"
)
