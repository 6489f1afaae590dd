package send

import (
	"context"
	"fmt"
	"strconv"
	"strings"
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

// Used counts an account's ledger rows for an action since a moment.
func Used(ctx context.Context, q db.Querier, accountID string, a Action, since time.Time) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sends
		WHERE account_id = $1 AND action = $2 AND claimed_at >= $3 AND state IN `+CountedStates,
		accountID, string(a), since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting %s sends of account %s: %w", a, accountID, err)
	}
	return n, nil
}

// CampaignUsed counts a campaign's ledger rows on one sender account for an
// action since a moment (a campaign's daily caps are per sender).
func CampaignUsed(ctx context.Context, q db.Querier, campaignID, accountID string, a Action, since time.Time) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sends
		WHERE campaign_id = $1 AND account_id = $2 AND action = $3 AND claimed_at >= $4 AND state IN `+CountedStates,
		campaignID, accountID, string(a), since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting %s sends of campaign %s: %w", a, campaignID, err)
	}
	return n, nil
}

// NotesUsed counts invitations with a note in the last 30 days and returns
// the oldest of them (when the next slot frees).
func NotesUsed(ctx context.Context, q db.Querier, accountID string, now time.Time) (int, time.Time, error) {
	since := now.Add(-30 * 24 * time.Hour)
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sends
		WHERE account_id = $1 AND action = 'invite' AND with_note = $2 AND claimed_at >= $3 AND state IN `+CountedStates,
		accountID, true, since).Scan(&n)
	if err != nil || n == 0 {
		if err != nil {
			err = fmt.Errorf("counting invitation notes of account %s: %w", accountID, err)
		}
		return n, time.Time{}, err
	}
	// Selected as a plain column (not min()) so SQLite reports its type.
	var oldest time.Time
	err = q.QueryRowContext(ctx, `SELECT claimed_at FROM sends
		WHERE account_id = $1 AND action = 'invite' AND with_note = $2 AND claimed_at >= $3 AND state IN `+CountedStates+`
		ORDER BY claimed_at LIMIT 1`, accountID, true, since).Scan(&oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("finding the oldest invitation note of account %s: %w", accountID, err)
	}
	return n, oldest.UTC(), nil
}

// weekFrees returns when an account's rolling 7-day window of an action
// has room for one more send: when the (used-cap+1)-th oldest counted send
// in it ages out. A cap of zero or less never frees by ageing; its window
// is looked at again at the next UTC day, when ramp or settings may have
// moved the cap.
func weekFrees(ctx context.Context, q db.Querier, accountID string, a Action, now time.Time, used, limit int) (time.Time, error) {
	if limit <= 0 {
		return UTCDayStart(now).Add(24 * time.Hour), nil
	}
	since := now.Add(-7 * 24 * time.Hour)
	if used < limit {
		return now, nil
	}
	var at time.Time
	err := q.QueryRowContext(ctx, `SELECT claimed_at FROM sends
		WHERE account_id = $1 AND action = $2 AND claimed_at >= $3 AND state IN `+CountedStates+`
		ORDER BY claimed_at LIMIT 1 OFFSET $4`, accountID, string(a), since, used-limit).Scan(&at)
	if db.IsNoRows(err) {
		// The sends counted a moment ago have aged out or were cancelled.
		return now, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("finding when the %s window frees: %w", a, err)
	}
	return at.UTC().Add(7 * 24 * time.Hour), nil
}

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
	args := []any{day, since}
	ph := make([]string, len(accs))
	for i, a := range accs {
		args = append(args, a.ID)
		ph[i] = "$" + strconv.Itoa(len(args))
	}
	type key struct {
		account string
		action  Action
	}
	today, week := map[key]int{}, map[key]int{}
	rows, err := q.QueryContext(ctx, `SELECT account_id, action, SUM(CASE WHEN claimed_at >= $1 THEN 1 ELSE 0 END), COUNT(*)
		FROM sends WHERE claimed_at >= $2 AND state IN `+CountedStates+`
		AND account_id IN (`+strings.Join(ph, ", ")+`) GROUP BY account_id, action`, args...)
	if err != nil {
		return nil, fmt.Errorf("counting sends of %d accounts: %w", len(accs), err)
	}
	defer rows.Close()
	for rows.Next() {
		var k key
		var d, w int
		if err := rows.Scan(&k.account, &k.action, &d, &w); err != nil {
			return nil, fmt.Errorf("counting sends of %d accounts: %w", len(accs), err)
		}
		today[k], week[k] = d, w
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting sends of %d accounts: %w", len(accs), err)
	}
	for _, a := range accs {
		var ls []Limit
		for _, act := range Actions {
			eff := EffectiveDaily(a, act, now)
			used := today[key{a.ID, act}]
			ls = append(ls, Limit{Action: act, Period: "day", Cap: eff.Cap, Binding: eff.Binding, Used: used,
				Remaining: max(0, eff.Cap-used), ResetsAt: day.Add(24 * time.Hour)})
			if act == ActionInvite {
				weff := EffectiveWeeklyInvites(a, now)
				wused := week[key{a.ID, act}]
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

// ActiveBlock returns the block holding an action on an account at now, if any.
func ActiveBlock(ctx context.Context, q db.Querier, accountID string, a Action, now time.Time) (*Block, error) {
	var b Block
	err := q.QueryRowContext(ctx, `SELECT account_id, action, kind, until, reason FROM send_blocks
		WHERE account_id = $1 AND action = $2 AND until > $3 ORDER BY until DESC LIMIT 1`,
		accountID, string(a), now).Scan(&b.AccountID, &b.Action, &b.Kind, &b.Until, &b.Reason)
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading blocks of account %s: %w", accountID, err)
	}
	b.Until = b.Until.UTC()
	return &b, nil
}

// SetBlock records (or extends) a cooldown or breaker.
func SetBlock(ctx context.Context, q db.Querier, b Block, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO send_blocks (account_id, action, kind, until, reason, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (account_id, action, kind) DO UPDATE SET until = excluded.until, reason = excluded.reason,
			created_at = excluded.created_at`,
		b.AccountID, string(b.Action), b.Kind, b.Until, b.Reason, now)
	if err != nil {
		return fmt.Errorf("recording %s block on account %s: %w", b.Kind, b.AccountID, err)
	}
	return nil
}
