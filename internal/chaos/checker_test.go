package chaos

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// sendActions maps the fake's logged actions that act on LinkedIn to the
// ledger's action names (withdrawals and replies included).
var sendActions = map[string]policy.Action{
	fake.ActionInvite:           policy.ActionInvite,
	fake.ActionStartChat:        policy.ActionMessage,
	fake.ActionSendMessage:      policy.ActionMessage,
	fake.ActionInMail:           policy.ActionInMail,
	fake.ActionCancelInvitation: policy.ActionWithdraw,
}

// report is the checker's result: each rule's count of violations (all
// must be zero) and what the run did.
type report struct {
	Calls, Applied, Lost, Faulted int
	ByAction                      map[policy.Action]int
	Duplicates                    int
	CapOvershoots                 int
	PendingOvershoots             int
	WeeklyOvershoots              int
	SentWhileNotConnected         int
	SplitRows                     int
	AuditRows, BrokenAuditLinks   int
	UnknownLeft, Parked           int
	ParkedApplied                 int
	StuckDispatched, StuckIntent  int
	Unrecorded, Phantom           int
	Flips                         map[string]int
	Details                       []string
}

// violations is the sum of every rule's count.
func (r report) violations() int {
	return r.Duplicates + r.CapOvershoots + r.PendingOvershoots + r.WeeklyOvershoots + r.SentWhileNotConnected +
		r.SplitRows + r.BrokenAuditLinks + r.UnknownLeft + r.StuckDispatched + r.StuckIntent + r.Unrecorded + r.Phantom
}

func (r *report) detail(format string, args ...any) {
	if len(r.Details) < 40 {
		r.Details = append(r.Details, fmt.Sprintf(format, args...))
	}
}

// String is the summary printed as the run's evidence.
func (r report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "provider calls: %d (%d faulted by injection, %d answers lost after applying)\n", r.Calls, r.Faulted, r.Lost)
	acts := make([]string, 0, len(r.ByAction))
	for a, n := range r.ByAction {
		acts = append(acts, fmt.Sprintf("%s=%d", a, n))
	}
	sort.Strings(acts)
	fmt.Fprintf(&b, "actions applied on LinkedIn: %d (%s)\n", r.Applied, strings.Join(acts, " "))
	flips := make([]string, 0, len(r.Flips))
	for k, n := range r.Flips {
		flips = append(flips, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(flips)
	fmt.Fprintf(&b, "status audit rows: %d (%s)\n", r.AuditRows, strings.Join(flips, " "))
	fmt.Fprintf(&b, "check duplicate sends or withdrawals (account+person+action > 1): %d\n", r.Duplicates)
	fmt.Fprintf(&b, "check daily cap overshoots at any instant:                      %d\n", r.CapOvershoots)
	fmt.Fprintf(&b, "check weekly invitation cap overshoots:                         %d\n", r.WeeklyOvershoots)
	fmt.Fprintf(&b, "check pending-invitation cap overshoots at any instant:         %d\n", r.PendingOvershoots)
	fmt.Fprintf(&b, "check sends while the account was not connected:               %d\n", r.SentWhileNotConnected)
	fmt.Fprintf(&b, "check split rows (connected with a reconnect copy):            %d\n", r.SplitRows)
	fmt.Fprintf(&b, "check broken audit links (from_status != previous to_status):  %d\n", r.BrokenAuditLinks)
	fmt.Fprintf(&b, "check unknown outcomes neither reconciled nor parked:          %d (parked for a person: %d, of which the provider had applied %d)\n", r.UnknownLeft, r.Parked, r.ParkedApplied)
	fmt.Fprintf(&b, "check sends left dispatched / claimed but never dispatched:    %d / %d\n", r.StuckDispatched, r.StuckIntent)
	fmt.Fprintf(&b, "check applied on LinkedIn but not in the ledger:               %d\n", r.Unrecorded)
	fmt.Fprintf(&b, "check confirmed in the ledger but never applied:               %d\n", r.Phantom)
	for _, d := range r.Details {
		fmt.Fprintf(&b, "  %s\n", d)
	}
	return b.String()
}

// auditRow is one status audit row.
type auditRow struct {
	id     int64
	from   *string
	to     string
	at     time.Time
	reason string
}

// check runs every rule over the fake's call log and the database.
func (h *harness) check() report {
	t, ctx := h.t, h.ctx
	t.Helper()
	r := report{ByAction: map[policy.Action]int{}, Flips: map[string]int{}}

	// Accounts with their settings, keyed by provider id.
	type acct struct {
		a     account.Account
		loc   *time.Location
		audit []auditRow
	}
	byProvider := map[string]*acct{}
	byID := map[string]*acct{}
	for _, s := range h.senders {
		a, err := h.accounts.Get(ctx, h.d.SQL, "", s.id)
		if err != nil {
			t.Fatal(err)
		}
		x := &acct{a: a, loc: s.loc}
		byProvider[s.provider], byID[s.id] = x, x
	}

	// Audit chains: every row starts where the previous one ended.
	rows, err := h.d.SQL.QueryContext(ctx, `SELECT id, account_id, from_status, to_status, created_at, reason
		FROM linkedin_account_status_audit ORDER BY account_id, id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ar auditRow
		var accID string
		if err := rows.Scan(&ar.id, &accID, &ar.from, &ar.to, &ar.at, &ar.reason); err != nil {
			t.Fatal(err)
		}
		x := byID[accID]
		if x == nil {
			continue
		}
		r.AuditRows++
		from := "∅"
		if ar.from != nil {
			from = *ar.from
		}
		r.Flips[from+"→"+ar.to]++
		if n := len(x.audit); n == 0 && ar.from != nil || n > 0 && (ar.from == nil || *ar.from != x.audit[n-1].to) {
			r.BrokenAuditLinks++
			r.detail("audit row %d of %s starts at %s, previous ended elsewhere", ar.id, accID, from)
		}
		x.audit = append(x.audit, ar)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	statusAt := func(x *acct, at time.Time) (string, time.Time) {
		st, since := "", time.Time{}
		for _, ar := range x.audit {
			if ar.at.After(at) {
				break
			}
			st, since = ar.to, ar.at
		}
		return st, since
	}

	// Pending invitations over time, from the fake's own record.
	ended := map[string][]time.Time{} // account → when pending invitations stopped being pending
	for _, inv := range h.fake.Invitations("") {
		if inv.State != fake.InvitationPending && !inv.ChangedAt.IsZero() {
			ended[inv.AccountID] = append(ended[inv.AccountID], inv.ChangedAt)
		}
	}

	type key struct {
		acc, recipient string
		action         policy.Action
	}
	seen := map[key]int{}
	type dayKey struct {
		acc    string
		day    time.Time
		action policy.Action
	}
	perDay := map[dayKey]int{}
	invites := map[string][]time.Time{}
	applied := map[key]bool{}
	how := map[key]string{} // when and how the provider applied it
	calls := h.fake.Calls()
	r.Calls = len(calls)
	for _, c := range calls {
		if c.Fault != "" {
			r.Faulted++
		}
		act, ok := sendActions[c.Action]
		if !ok || !c.Applied {
			continue
		}
		if strings.HasSuffix(c.Fault, ":"+string(fake.EffectLost)) {
			r.Lost++
		}
		x := byProvider[c.AccountID]
		if x == nil {
			r.detail("applied %s for unknown account %s", c.Action, c.AccountID)
			continue
		}
		r.Applied++
		r.ByAction[act]++
		at := c.Time
		k := key{x.a.ID, c.Recipient, act}
		seen[k]++
		applied[k] = true
		how[k] = fmt.Sprintf("applied %s, answered %d, fault %q", at.Format("15:04:05.000"), c.Status, c.Fault)
		if seen[k] == 2 {
			r.Duplicates++
			r.detail("duplicate %s from %s to %s (second at %s)", act, x.a.Name, c.Recipient, at.Format(time.RFC3339Nano))
		}
		if st, since := statusAt(x, at); st != string(account.StatusConnected) {
			r.SentWhileNotConnected++
			r.detail("%s from %s at %s while %q (since %s, %v before)", act, x.a.Name, at.Format(time.RFC3339Nano), st,
				since.Format(time.RFC3339Nano), at.Sub(since))
		}
		if act == policy.ActionWithdraw {
			continue
		}
		dk := dayKey{x.a.ID, policy.UTCDayStart(at), act}
		perDay[dk]++
		if eff := policy.EffectiveDaily(x.a, act, at); perDay[dk] > eff.Cap {
			r.CapOvershoots++
			r.detail("%s: %d %s on %s, effective cap %d", x.a.Name, perDay[dk], act, dk.day.Format("2006-01-02"), eff.Cap)
		}
		if act != policy.ActionInvite {
			continue
		}
		invites[x.a.ID] = append(invites[x.a.ID], at)
		// Pending at this instant: invitations sent up to now minus those
		// accepted or withdrawn before now.
		pending := len(invites[x.a.ID])
		for _, e := range ended[c.AccountID] {
			if !e.After(at) {
				pending--
			}
		}
		if pending > x.a.Caps.InvitePending {
			r.PendingOvershoots++
			r.detail("%s: %d pending invitations at %s, cap %d", x.a.Name, pending, at.Format(time.RFC3339Nano), x.a.Caps.InvitePending)
		}
		list := invites[x.a.ID]
		n := 0
		for j := len(list) - 1; j >= 0 && at.Sub(list[j]) < 7*24*time.Hour; j-- {
			n++
		}
		if eff := policy.EffectiveWeeklyInvites(x.a, at); n > eff.Cap {
			r.WeeklyOvershoots++
			r.detail("%s: %d invitations in 7 days at %s, weekly cap %d", x.a.Name, n, at.Format(time.RFC3339Nano), eff.Cap)
		}
	}

	// The ledger against the provider's truth.
	r.SplitRows = h.count(`SELECT count(*) FROM linkedin_accounts WHERE status = 'connected' AND last_error IS NOT NULL
		AND lower(last_error) ~ '(no longer registered|please reconnect|account not found.*reconnect|reconnect needed|reconnect required|must be connected again|credentials expired)'`)
	r.UnknownLeft = h.count(`SELECT count(*) FROM sends WHERE state = 'unknown' AND parked_at IS NULL`)
	r.Parked = h.count(`SELECT count(*) FROM sends WHERE state = 'unknown' AND parked_at IS NOT NULL`)
	r.StuckDispatched = h.count(`SELECT count(*) FROM sends WHERE state = 'dispatched'`)
	r.StuckIntent = h.count(`SELECT count(*) FROM sends WHERE state = 'intent'`)
	ledger, err := h.d.SQL.QueryContext(ctx, `SELECT s.id, s.account_id, coalesce(p.provider_id, ''), s.action, s.state, s.parked_at IS NOT NULL,
			coalesce(s.error, ''), s.claimed_at, coalesce(s.parked_at, s.claimed_at)
		FROM sends s LEFT JOIN prospects p ON p.id = s.prospect_id WHERE s.action IN ('invite', 'message', 'inmail', 'withdraw')`)
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[key]bool{}
	for ledger.Next() {
		var sendID, accID, recipient, action, state, sendErr string
		var parked bool
		var claimedAt, parkedAt time.Time
		if err := ledger.Scan(&sendID, &accID, &recipient, &action, &state, &parked, &sendErr, &claimedAt, &parkedAt); err != nil {
			t.Fatal(err)
		}
		k := key{accID, recipient, policy.Action(action)}
		if state == "confirmed" || parked {
			recorded[k] = true
		}
		if parked && applied[k] {
			// Not a violation (a person settles it), but reconciliation
			// could have confirmed it: listed for whoever looks into why.
			r.ParkedApplied++
			r.detail("info: parked %s %s (%s to %s) was %s; claimed %s, parked %s; %s", action, sendID, accID, recipient,
				how[k], claimedAt.Format("15:04:05.000"), parkedAt.Format("15:04:05.000"), sendErr)
		}
		if state == "confirmed" && !applied[k] {
			r.Phantom++
			r.detail("ledger confirms %s from %s to %s, the provider never applied it", action, accID, recipient)
		}
	}
	if err := ledger.Err(); err != nil {
		t.Fatal(err)
	}
	ledger.Close()
	for k := range applied {
		if !recorded[k] {
			r.Unrecorded++
			r.detail("provider applied %s from %s to %s, the ledger has it neither confirmed nor parked", k.action, k.acc, k.recipient)
		}
	}
	return r
}
