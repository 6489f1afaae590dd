package send

import (
	"context"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/policy"
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
	Action    policy.Action  `json:"action"`
	Period    string         `json:"period"`
	Cap       int            `json:"cap"`
	Binding   policy.Binding `json:"binding"`
	Used      int            `json:"used"`
	Remaining int            `json:"remaining"`
	// ResetsAt is when usage next goes down; nil while nothing is used.
	ResetsAt *time.Time `json:"resets_at"`
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
	day := policy.UTCDayStart(now)
	since := now.Add(-7 * 24 * time.Hour)
	ids := make([]string, len(accs))
	for i, a := range accs {
		ids[i] = a.ID
	}
	today, week, err := ledgerCounts(ctx, q, ids, day, since)
	if err != nil {
		return nil, err
	}
	pending, err := PendingCounts(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	for _, a := range accs {
		var ls []Limit
		for _, act := range policy.Actions {
			eff := policy.EffectiveDaily(a, act, now)
			used := today[usageKey{a.ID, act}]
			l := Limit{Action: act, Period: "day", Cap: eff.Cap, Binding: eff.Binding, Used: used, Remaining: max(0, eff.Cap-used)}
			if used > 0 {
				l.ResetsAt = timePtr(day.Add(24 * time.Hour))
			}
			ls = append(ls, l)
			if act == policy.ActionInvite {
				weff := policy.EffectiveWeeklyInvites(a, now)
				wused := week[usageKey{a.ID, act}]
				l := Limit{Action: act, Period: "7d", Cap: weff.Cap, Binding: weff.Binding, Used: wused, Remaining: max(0, weff.Cap-wused)}
				if wused > 0 {
					// The rolling window resets piece by piece: when full, at
					// the next free slot; otherwise when its oldest send ages out.
					times, err := claimTimes(ctx, q, a.ID, act, since, false)
					if err != nil {
						return nil, err
					}
					if len(times) > 0 {
						resets := times[0].Add(7 * 24 * time.Hour)
						if len(times) >= weff.Cap {
							resets = policy.WeekFrees(times, weff.Cap, now)
						}
						l.ResetsAt = timePtr(resets)
					}
				}
				ls = append(ls, l)
				// Pending invitations: no reset time, an acceptance or a
				// withdrawal frees a slot (docs/sending.md#pending-invitations).
				used := pending[a.ID]
				binding := policy.BindingConfigured
				if a.Caps.InvitePending >= account.PendingCeiling {
					binding = policy.BindingCeiling
				}
				ls = append(ls, Limit{Action: act, Period: "pending", Cap: a.Caps.InvitePending, Binding: binding, Used: used,
					Remaining: max(0, a.Caps.InvitePending-used)})
			}
		}
		out[a.ID] = ls
	}
	return out, nil
}

// Block is an active cooldown or breaker.
type Block struct {
	AccountID string        `json:"account_id"`
	Action    policy.Action `json:"action"`
	Kind      string        `json:"kind"`
	Until     time.Time     `json:"until"`
	Reason    string        `json:"reason"`
}

func timePtr(t time.Time) *time.Time { return &t }
