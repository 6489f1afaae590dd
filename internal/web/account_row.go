package web

import (
	"context"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/health"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
)

// pill is a status badge: Class picks the colour, Text is the words.
type pill struct {
	Class string
	Text  string
}

// statusPill never lies: green only for connected, "Reconnect needed" only
// when the account's copy is terminal.
func statusPill(a account.Account) pill {
	switch {
	case a.Status == account.StatusConnected:
		return pill{"ok", "Connected"}
	case a.ReconnectNeeded():
		return pill{"bad", "Reconnect needed"}
	case a.Status == account.StatusConnecting:
		return pill{"info", "Connecting"}
	default:
		return pill{"warn", strings.ToUpper(string(a.Status[:1])) + strings.ReplaceAll(string(a.Status[1:]), "_", " ")}
	}
}

type limitRow struct {
	Action    string
	Period    string
	Used      int
	Cap       int
	Remaining int
	ResetsAt  string
	Binding   string
}

type accountRow struct {
	Account   account.Account
	Pill      pill
	Limits    []limitRow
	RampWeek  int
	RampWeeks int
	// Usage is the compact row's bars (invitations and messages today,
	// pending invitations), each with its binding reason in words.
	Usage []usageBar
	// Tags, CoolingUntil, AtPendingCap and LastCheck are filled by the
	// overview (docs/surfaces.md#accounts-overview).
	Tags         []string
	CoolingUntil time.Time
	AtPendingCap bool
	LastCheck    *health.LastCheck
	// Next is the account's next action in words ("Invitation at 14:32",
	// "—" for none); NextTitle the same moment in UTC.
	Next, NextTitle string
}

// nextActionWords says when and what an account does next, from the
// earliest due prospect of its running campaigns, in the account's time
// zone: "Invitation at 14:32" today, "Message Tue 8 Dec 09:00" later,
// "Invitation due now" when the time has come (the next scheduler pass
// takes it), "—" when nothing is scheduled
// (docs/surfaces.md#accounts-overview).
func nextActionWords(a account.Account, n campaign.NextAction, ok bool, now time.Time) (string, string) {
	if !ok {
		return "—", "nothing scheduled"
	}
	what := campaign.StepTypeLabel(n.StepType)
	switch n.StepType {
	case campaign.StepWait:
		what = "End of a wait"
	case campaign.StepIfAccepted, campaign.StepIfReplied:
		what = "Condition check"
	case "":
		what = "Next step"
	}
	title := n.At.UTC().Format("2006-01-02 15:04 UTC")
	if !n.At.After(now) {
		return what + " due now", title
	}
	_, loc := policy.AccountWindow(a)
	at, today := n.At.In(loc), now.In(loc)
	if at.Year() == today.Year() && at.YearDay() == today.YearDay() {
		return what + " at " + at.Format("15:04"), title
	}
	return what + " " + at.Format("Mon 2 Jan 15:04"), title
}

// accountRows builds the table rows from send.LimitsFor: one grouped ledger
// query for the page, plus one per account that invited in the last 7 days
// (to find when its rolling window next frees).
func (s *Server) accountRows(ctx context.Context, accs []account.Account) ([]accountRow, error) {
	now := s.opts.Clock.Now()
	limits, err := send.LimitsFor(ctx, s.opts.DB.SQL, accs, now)
	if err != nil {
		return nil, err
	}
	out := make([]accountRow, 0, len(accs))
	for _, a := range accs {
		row := accountRow{Account: a, Pill: statusPill(a), RampWeek: policy.RampWeek(a.RampStartedAt, now), RampWeeks: len(policy.RampWeeks),
			Usage: usageBars(a, limits[a.ID], now)}
		for _, l := range limits[a.ID] {
			lr := limitRow{Action: string(l.Action), Period: "today", Used: l.Used, Cap: l.Cap, Remaining: l.Remaining,
				Binding: string(l.Binding)}
			switch {
			case l.ResetsAt != nil:
				lr.ResetsAt = l.ResetsAt.Format("Jan 2 15:04 UTC")
			case l.Period == "day":
				// Daily caps reset at the UTC day's end, used or not.
				lr.ResetsAt = policy.UTCDayStart(now).Add(24 * time.Hour).Format("Jan 2 15:04 UTC")
			}
			switch l.Period {
			case "7d":
				lr.Period = "7 days"
				if l.Used < l.Cap {
					lr.ResetsAt = "rolling"
				}
			case "pending":
				// Pending invitations free one by one, on an accept or a
				// withdrawal (docs/sending.md#pending-invitations).
				lr.Period, lr.ResetsAt = "pending", "as accepted or withdrawn"
			}
			row.Limits = append(row.Limits, lr)
		}
		out = append(out, row)
	}
	return out, nil
}
