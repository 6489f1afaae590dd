package campaign

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/db"
)

// NextAction is when a sender acts next and at which step: the earliest
// due time of its active prospects in running campaigns
// (docs/surfaces.md#accounts-overview).
type NextAction struct {
	AccountID, CampaignID, StepID string
	// StepType is the type of the step the prospect is due at.
	StepType StepType
	// At is the due time; it may be past (due now, waiting for the next
	// scheduler pass).
	At time.Time
}

// NextActions returns the NextAction of each of the given accounts (a page
// of the overview) that has one, in one grouped query: the earliest due
// time per account over its active enrollments of running campaigns, then
// the enrollment at that time (the lowest campaign and step id on a tie).
// Gates the scheduler has not met yet are not in it; the account page's
// diagnosis is the full answer.
func (s *Service) NextActions(ctx context.Context, q db.Querier, accountIDs []string) (map[string]NextAction, error) {
	out := make(map[string]NextAction, len(accountIDs))
	if len(accountIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(accountIDs))
	marks := make([]string, len(accountIDs))
	for i, id := range accountIDs {
		args[i] = id
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	rows, err := q.QueryContext(ctx, `SELECT e.account_id, e.campaign_id, e.step_id, e.next_action_at, c.steps
		FROM (SELECT e.account_id, min(e.next_action_at) AS at FROM enrollments e
			JOIN campaigns c ON c.id = e.campaign_id AND c.status = 'running'
			WHERE e.account_id IN (`+strings.Join(marks, ", ")+`) AND e.state = 'active' AND e.next_action_at IS NOT NULL
			GROUP BY e.account_id) m
		JOIN enrollments e ON e.account_id = m.account_id AND e.state = 'active' AND e.next_action_at = m.at
		JOIN campaigns c ON c.id = e.campaign_id AND c.status = 'running'
		ORDER BY e.account_id, e.campaign_id, e.step_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the next actions of %d accounts: %w", len(accountIDs), err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			n     NextAction
			step  *string
			steps string
		)
		if err := rows.Scan(&n.AccountID, &n.CampaignID, &step, &n.At, &steps); err != nil {
			return nil, fmt.Errorf("reading the next actions of %d accounts: %w", len(accountIDs), err)
		}
		if _, done := out[n.AccountID]; done {
			continue
		}
		if step != nil {
			n.StepID = *step
		}
		var list []Step
		if err := json.Unmarshal([]byte(steps), &list); err != nil {
			return nil, fmt.Errorf("decoding steps of campaign %s: %w", n.CampaignID, err)
		}
		if st, ok := StepByID(list, n.StepID); ok {
			n.StepType = st.Type
		}
		n.At = n.At.UTC()
		out[n.AccountID] = n
	}
	return out, rows.Err()
}
