package send

// A campaign's results in people terms, from its ledger and its
// enrollments' accept and reply stamps (docs/surfaces.md#campaign-stats).

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/policy"
)

// StepStats is one step's row of a campaign's stats: Sent counts the
// step's confirmed sends (withdrawals excluded), Accepted the prospects
// whose invitation of the step was accepted (invitation steps only),
// Replied the prospects whose first reply came after the step's send.
// A rate is nil when nothing was sent (and AcceptanceRate for a step that
// is not an invitation).
type StepStats struct {
	StepID         string   `json:"step_id"`
	Action         string   `json:"action"`
	Sent           int      `json:"sent"`
	Accepted       int      `json:"accepted"`
	Replied        int      `json:"replied"`
	AcceptanceRate *float64 `json:"acceptance_rate"`
	ReplyRate      *float64 `json:"reply_rate"`
}

// SenderStats is one sender's row: its confirmed sends in the campaign,
// and the distinct prospects it invited who accepted, and it contacted
// who replied afterwards.
type SenderStats struct {
	AccountID string `json:"account_id"`
	Sent      int    `json:"sent"`
	Accepted  int    `json:"accepted"`
	Replied   int    `json:"replied"`
}

// DayStats is one UTC day's confirmed sends of a campaign per action
// (the day the send was claimed, as the daily caps count it).
type DayStats struct {
	Date        string `json:"date"`
	Invite      int    `json:"invite"`
	Message     int    `json:"message"`
	InMail      int    `json:"inmail"`
	ViewProfile int    `json:"view_profile"`
	Withdraw    int    `json:"withdraw"`
}

// Stats is a campaign's results (docs/surfaces.md#campaign-stats).
type Stats struct {
	Steps   []StepStats   `json:"steps"`
	Senders []SenderStats `json:"senders"`
	Days    []DayStats    `json:"days"`
}

// rate is n/of, nil when of is 0.
func rate(n, of int) *float64 {
	if of == 0 {
		return nil
	}
	r := float64(n) / float64(of)
	return &r
}

// repliedAfter is true in a stats query when the prospect's first reply
// came at or after the send's dispatch.
const repliedAfter = `en.replied_at IS NOT NULL AND en.replied_at >= s.dispatched_at`

// CampaignStats reads a campaign's stats: per step (by step id and
// action; Arrange puts them in the campaign's order) and per sender over
// the campaign's life, and per UTC day for the days days ending with the day
// of now (zeros included, oldest first). The caller has checked the
// campaign belongs to the workspace.
func CampaignStats(ctx context.Context, q db.Querier, campaignID string, now time.Time, days int) (Stats, error) {
	st := Stats{Steps: []StepStats{}, Senders: []SenderStats{}, Days: []DayStats{}}
	counts, err := campaignSendCounts(ctx, q, campaignID)
	if err != nil {
		return st, err
	}
	// Rows come by (scope, key, action, measure): a step's or a sender's
	// measures follow each other; one with no send is left out.
	for _, c := range counts {
		switch c.scope {
		case "step":
			if n := len(st.Steps); n == 0 || st.Steps[n-1].StepID != c.key || st.Steps[n-1].Action != c.action {
				st.Steps = append(st.Steps, StepStats{StepID: c.key, Action: c.action})
			}
			r := &st.Steps[len(st.Steps)-1]
			c.into(&r.Sent, &r.Accepted, &r.Replied)
		case "sender":
			if n := len(st.Senders); n == 0 || st.Senders[n-1].AccountID != c.key {
				st.Senders = append(st.Senders, SenderStats{AccountID: c.key})
			}
			r := &st.Senders[len(st.Senders)-1]
			c.into(&r.Sent, &r.Accepted, &r.Replied)
		}
	}
	steps := st.Steps[:0]
	for _, r := range st.Steps {
		if r.Sent == 0 {
			continue
		}
		if r.Action == "invite" {
			r.AcceptanceRate = rate(r.Accepted, r.Sent)
		}
		r.ReplyRate = rate(r.Replied, r.Sent)
		steps = append(steps, r)
	}
	st.Steps = steps
	senders := st.Senders[:0]
	for _, r := range st.Senders {
		if r.Sent > 0 {
			senders = append(senders, r)
		}
	}
	st.Senders = senders

	if days <= 0 {
		return st, nil
	}
	today := now.UTC().Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, -(days - 1))
	args := []any{campaignID, first}
	cols := make([]string, days)
	for i := 0; i < days; i++ {
		args = append(args, first.AddDate(0, 0, i+1))
		lo := "$2"
		if i > 0 {
			lo = fmt.Sprintf("$%d", len(args)-1)
		}
		cols[i] = fmt.Sprintf("COALESCE(SUM(CASE WHEN s.claimed_at >= %s AND s.claimed_at < $%d THEN 1 ELSE 0 END), 0)", lo, len(args))
	}
	rows, err := q.QueryContext(ctx, `SELECT s.action, `+strings.Join(cols, ", ")+` FROM sends s
		WHERE s.campaign_id = $1 AND s.state = 'confirmed' AND s.claimed_at >= $2 AND s.claimed_at < $`+fmt.Sprint(len(args))+`
		GROUP BY s.action`, args...)
	if err != nil {
		return st, fmt.Errorf("counting the days of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	st.Days = make([]DayStats, days)
	for i := range st.Days {
		st.Days[i].Date = first.AddDate(0, 0, i).Format(time.DateOnly)
	}
	for rows.Next() {
		var action string
		counts := make([]int, days)
		dest := []any{&action}
		for i := range counts {
			dest = append(dest, &counts[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return st, fmt.Errorf("counting the days of campaign %s: %w", campaignID, err)
		}
		for i, n := range counts {
			d := &st.Days[i]
			switch action {
			case "invite":
				d.Invite = n
			case "message":
				d.Message = n
			case "inmail":
				d.InMail = n
			case "view_profile":
				d.ViewProfile = n
			case "withdraw":
				d.Withdraw = n
			}
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("counting the days of campaign %s: %w", campaignID, err)
	}
	return st, nil
}

// MaxStatsDays is the most days CampaignStats's day series may cover.
const MaxStatsDays = 90

// DefaultStatsDays is the day series' length when none is asked.
const DefaultStatsDays = 30

// Arrange orders the step rows as the campaign's steps go, adding a
// zero row for each action step nothing was sent at yet; rows of steps
// since removed from the campaign follow, by id.
func (st *Stats) Arrange(steps []campaign.Step) {
	var out []StepStats
	used := make([]bool, len(st.Steps))
	for _, step := range steps {
		action, ok := policy.StepAction(step.Type)
		if !ok {
			continue
		}
		found := false
		for i, r := range st.Steps {
			if r.StepID == step.ID && !used[i] {
				out, used[i], found = append(out, r), true, true
			}
		}
		if !found {
			out = append(out, StepStats{StepID: step.ID, Action: string(action)})
		}
	}
	for i, r := range st.Steps {
		if !used[i] {
			out = append(out, r)
		}
	}
	if out == nil {
		out = []StepStats{}
	}
	st.Steps = out
}

// Rates is a campaign's results in one line, for the campaign list:
// prospects invited and who accepted, prospects sent anything and who
// replied after it.
type Rates struct {
	Invited, Accepted, Contacted, Replied int
}

// AcceptanceRate is Accepted/Invited, nil when nobody was invited.
func (r Rates) AcceptanceRate() *float64 { return rate(r.Accepted, r.Invited) }

// ReplyRate is Replied/Contacted, nil when nobody was contacted.
func (r Rates) ReplyRate() *float64 { return rate(r.Replied, r.Contacted) }

// CampaignRates reads Rates for several campaigns in one query; a
// campaign with no confirmed send is absent.
func CampaignRates(ctx context.Context, q db.Querier, campaignIDs []string) (map[string]Rates, error) {
	out := map[string]Rates{}
	if len(campaignIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(campaignIDs))
	ph := make([]string, len(campaignIDs))
	for i, id := range campaignIDs {
		args[i], ph[i] = id, fmt.Sprintf("$%d", i+1)
	}
	rows, err := q.QueryContext(ctx, `SELECT s.campaign_id,
		COUNT(DISTINCT CASE WHEN s.action = 'invite' THEN en.id END),
		COUNT(DISTINCT CASE WHEN s.action = 'invite' AND en.accepted_at IS NOT NULL THEN en.id END),
		COUNT(DISTINCT en.id),
		COUNT(DISTINCT CASE WHEN `+repliedAfter+` THEN en.id END)
		FROM sends s JOIN enrollments en ON en.id = s.enrollment_id
		WHERE s.campaign_id IN (`+strings.Join(ph, ", ")+`) AND s.state = 'confirmed' AND s.action <> 'withdraw'
		GROUP BY s.campaign_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("counting campaign rates: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var r Rates
		if err := rows.Scan(&id, &r.Invited, &r.Accepted, &r.Contacted, &r.Replied); err != nil {
			return nil, fmt.Errorf("counting campaign rates: %w", err)
		}
		out[id] = r
	}
	return out, rows.Err()
}
