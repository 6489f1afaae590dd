package web

import (
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/policy"
)

// rampWeek is one row of the account page's ramp schedule
// (docs/sending.md#ramp): the effective caps of that week, min(tier
// ceiling, ramped configured cap), with the account's settings of today.
type rampWeek struct {
	Week    int
	Percent int
	Starts  time.Time
	Current bool
	Caps    []int // in rampActions order
}

// rampColumns are the schedule's columns.
var rampColumns = []string{"Invitations per day", "Invitations per 7 days", "Messages per day", "InMails per day", "Profile views per day"}

func rampSchedule(a account.Account, now time.Time) []rampWeek {
	ceil := policy.Ceilings(a.Tier)
	cur := policy.RampWeek(a.RampStartedAt, now)
	out := make([]rampWeek, len(policy.RampWeeks))
	for i, f := range policy.RampWeeks {
		eff := func(ceiling, configured int) int { return policy.EffectiveCap(ceiling, configured, f).Cap }
		out[i] = rampWeek{Week: i + 1, Percent: int(f*100 + 0.5), Starts: a.RampStartedAt.Add(time.Duration(i) * 7 * 24 * time.Hour),
			Current: i+1 == cur, Caps: []int{
				eff(ceil.InviteDaily, a.Caps.InviteDaily), eff(ceil.InviteWeekly, a.Caps.InviteWeekly),
				eff(ceil.MessageDaily, a.Caps.MessageDaily), eff(ceil.InMailDaily, a.Caps.InMailDaily),
				eff(ceil.ViewProfileDaily, a.Caps.ViewProfileDaily)}}
	}
	return out
}
