package policy

import (
	"time"

	"github.com/keel-outreach/keel/internal/campaign"
)

// This file names what the decision needs to know of campaigns: which
// action a step performs, a campaign's daily share per sender, and when a
// held prospect is looked at again.

// StepAction is the provider action a step type performs; ok is false for
// waits and conditions.
func StepAction(t campaign.StepType) (a Action, ok bool) {
	switch t {
	case campaign.StepInvite:
		return ActionInvite, true
	case campaign.StepMessage:
		return ActionMessage, true
	case campaign.StepInMail:
		return ActionInMail, true
	case campaign.StepViewProfile:
		return ActionViewProfile, true
	}
	return "", false
}

// CampaignActions lists the actions a campaign's steps perform, in the
// order of Actions.
func CampaignActions(c campaign.Campaign) []Action {
	var out []Action
	for _, act := range Actions {
		for _, st := range c.Steps {
			if a, ok := StepAction(st.Type); ok && a == act {
				out = append(out, act)
				break
			}
		}
	}
	return out
}

// ShareCap is a campaign's daily share of an action per sender.
func ShareCap(c campaign.Campaign, a Action) int {
	switch a {
	case ActionInvite:
		return c.DailyCaps.Invite
	case ActionMessage:
		return c.DailyCaps.Message
	case ActionInMail:
		return c.DailyCaps.InMail
	}
	return c.DailyCaps.ViewProfile
}

// NotConnectedRecheck is when a prospect of a sender that is not connected
// is looked at again (its flip normally soft-pauses it first).
const NotConnectedRecheck = 15 * time.Minute

// Recheck is when a prospect a verdict holds is looked at again: when the
// verdict clears, or, for holds with no known end (a sender not connected,
// a Free account's InMail), after a while — a reconnect or a settings
// change makes it due sooner (docs/sending.md#re-evaluation).
func Recheck(v Verdict, now time.Time) time.Time {
	switch {
	case v.Until.After(now):
		return v.Until
	case v.Code == CodeNotConnected:
		return now.Add(NotConnectedRecheck)
	default:
		return UTCDayStart(now).Add(24 * time.Hour)
	}
}
