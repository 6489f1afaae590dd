package send

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/policy"
)

// UsageJoin returns what account.PageFilter.ByUsage asks for: a subquery of
// (account_id, usage) rows, usage being an account's highest share today
// of an effective daily cap — policy.EffectiveDaily's min(tier ceiling,
// ramped configured cap) written in SQL over linkedin_accounts' columns —
// for the workspace's accounts with counted sends today. The overview then
// orders and pages by it in the database instead of reading every account
// (docs/surfaces.md#accounts-overview). arg binds a value and returns its
// placeholder. TestUsageSQLAgreesWithPolicy holds the SQL to the Go rule.
func UsageJoin(workspaceID string, now time.Time) func(arg func(any) string) string {
	return func(arg func(any) string) string {
		ws, since := arg(workspaceID), arg(policy.UTCDayStart(now))
		var cases []string
		for _, act := range policy.Actions {
			cases = append(cases, fmt.Sprintf("WHEN '%s' THEN %s", act, usageSQL(act, "t.n", now, arg)))
		}
		return `SELECT t.account_id, max(CASE t.action ` + strings.Join(cases, " ") + ` ELSE 0 END) AS usage
			FROM (SELECT account_id, action, count(*) AS n FROM sends
				WHERE workspace_id = ` + ws + ` AND claimed_at >= ` + since + ` AND state IN ` + CountedStates + `
				GROUP BY account_id, action) t
			JOIN linkedin_accounts a ON a.id = t.account_id
			GROUP BY t.account_id`
	}
}

// usageSQL is used/effective-cap of one action as a double, 0 when the
// effective cap is 0 (as the overview's Go side counted it).
func usageSQL(act policy.Action, used string, now time.Time, arg func(any) string) string {
	eff := EffectiveDailySQL(act, "a", now, arg)
	return fmt.Sprintf("CASE WHEN %[1]s > 0 THEN CAST(%[2]s AS DOUBLE PRECISION) / (%[1]s) ELSE 0 END", eff, used)
}

// capColumns are the linkedin_accounts columns of each action's daily cap.
var capColumns = map[policy.Action]string{
	policy.ActionInvite: "cap_invite_daily", policy.ActionMessage: "cap_message_daily", policy.ActionInMail: "cap_inmail_daily",
	policy.ActionViewProfile: "cap_view_profile_daily", policy.ActionWithdraw: "cap_withdraw_daily",
}

// EffectiveDailySQL is policy.EffectiveDaily(a, act, now).Cap as an SQL
// expression over the linkedin_accounts row aliased alias: the tier's
// ceiling, the configured cap ramped by the account's week (from
// ramp_started_at, or created_at when unset) with the ramp's floor, the
// smaller of the two. Every number comes from policy and account; the
// ramp's factors are hundredths, so the floor is integer division.
func EffectiveDailySQL(act policy.Action, alias string, now time.Time, arg func(any) string) string {
	col, ok := capColumns[act]
	if !ok {
		return "0"
	}
	c := alias + "." + col
	// The tier's ceiling: every tier named, anything else as Ceilings("").
	ceiling := "CASE " + alias + ".tier"
	for _, t := range []account.Tier{account.TierFree, account.TierPremium, account.TierSalesNavigator, account.TierRecruiter} {
		ceiling += fmt.Sprintf(" WHEN '%s' THEN %d", t, policy.DailyCap(policy.Ceilings(t), act))
	}
	ceiling += fmt.Sprintf(" ELSE %d END", policy.DailyCap(policy.Ceilings(""), act))
	ramped := c
	if act != policy.ActionWithdraw { // withdrawals do not ramp (policy.EffectiveDaily)
		floor := fmt.Sprintf("(CASE WHEN %[1]s < %[2]d THEN %[1]s ELSE %[2]d END)", c, policy.RampFloor)
		started := "COALESCE(" + alias + ".ramp_started_at, " + alias + ".created_at)"
		ramped = "CASE"
		for week, f := range policy.RampWeeks {
			pct := int(math.Round(f * 100))
			if pct >= 100 {
				break
			}
			// Started after now-(week+1)*7d: in that week (or not yet started: week 1).
			after := arg(now.Add(-time.Duration(week+1) * 7 * 24 * time.Hour))
			part := fmt.Sprintf("%s * %d / 100", c, pct)
			ramped += fmt.Sprintf(" WHEN %s > %s THEN (CASE WHEN %s < %s THEN %s ELSE %s END)", started, after, part, floor, floor, part)
		}
		ramped += " ELSE " + c + " END"
	}
	return fmt.Sprintf("(CASE WHEN (%[1]s) < (%[2]s) THEN (%[1]s) ELSE (%[2]s) END)", ceiling, ramped)
}
