// Package diagnose answers "why isn't it sending?" for a campaign or an
// account: an ordered list of findings, each with a code, a severity, a
// sentence and, where known, when it clears. The API, the UI and the CLI all
// call these two functions.
package diagnose

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/jobs"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
)

// Severities, most serious first.
const (
	// Blocking: nothing is sent until it clears.
	Blocking = "blocking"
	// Limiting: sending continues, slower or for some actions only.
	Limiting = "limiting"
	// Info: worth knowing, nothing is held back.
	Info = "info"
)

// Finding is one reason (or the good news).
type Finding struct {
	Code     string     `json:"code"`
	Severity string     `json:"severity"`
	Message  string     `json:"message"`
	ClearsAt *time.Time `json:"clears_at"`
	// Zone is the time zone of the sender the finding is about, for showing
	// ClearsAt as its sentence does; empty for findings about no one sender
	// (then Report.Zone). JSON carries UTC only.
	Zone string `json:"-"`
}

// Report is the answer.
type Report struct {
	Sending bool `json:"sending"`
	// NextActionAt is the earliest time the campaign (or account) will act
	// without anyone doing anything; nil when nothing will.
	NextActionAt *time.Time `json:"next_action_at"`
	// Headline is the one line that leads the panel: "Sending — next
	// invitation from Ada at 14:32 (Europe/Paris)" or "Not sending: …".
	Headline string    `json:"headline"`
	Findings []Finding `json:"findings"`
	// Senders are the campaign's sender accounts as the diagnosis read
	// them, for callers that show them too (not part of the JSON).
	Senders []account.Account `json:"-"`
	// Zone is the time zone the headline and the campaign's own sentences
	// use: the account's, or for a campaign the zone of the sender of its
	// next action, else the zone its senders share, else UTC (see
	// docs/surfaces.md#why-isnt-it-sending). JSON carries UTC only.
	Zone string `json:"-"`
}

// Location is Report.Zone loaded (UTC when unknown).
func (r Report) Location() *time.Location { return zoneLocation(r.Zone) }

// ZoneOf is the zone to show a finding's time in: its sender's, else the
// report's.
func (r Report) ZoneOf(f Finding) *time.Location {
	if f.Zone != "" {
		return zoneLocation(f.Zone)
	}
	return r.Location()
}

func zoneLocation(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	_, loc := policy.AccountWindow(account.Account{Timezone: name})
	return loc
}

// zoneOf is an account's effective time zone name (UTC when its own no
// longer loads, as the policy does).
func zoneOf(a account.Account) string {
	_, loc := policy.AccountWindow(a)
	return loc.String()
}

// commonZone is the zone every sender shares, else UTC.
func commonZone(senders []account.Account) string {
	zone := ""
	for _, a := range senders {
		z := zoneOf(a)
		if zone != "" && z != zone {
			return "UTC"
		}
		zone = z
	}
	if zone == "" {
		return "UTC"
	}
	return zone
}

// Deps are the services diagnosis reads from.
type Deps struct {
	DB        *db.DB
	Accounts  *account.Service
	Campaigns *campaign.Service
	// MinSpacing is the installation's pacing floor (KEEL_MIN_SPACING);
	// zero means send.DefaultMinSpacing.
	MinSpacing time.Duration
}

func (d Deps) pacing(a account.Account) policy.Pacing {
	floor := d.MinSpacing
	if floor <= 0 {
		floor = send.DefaultMinSpacing
	}
	return policy.ForAccount(a.Pacing, floor)
}

func at(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (r *Report) add(code, severity string, clears time.Time, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Code: code, Severity: severity, Message: fmt.Sprintf(format, args...), ClearsAt: at(clears)})
}

var pauseSentences = map[campaign.PausedReason]string{
	campaign.ReasonManual:              "Campaign paused by a person. Resume it to continue.",
	campaign.ReasonAccountDisconnected: "Campaign paused because its sender account is disconnected. It resumes by itself after a reconnect.",
	campaign.ReasonAccountRestricted:   "Campaign paused because LinkedIn restricted its sender account. It resumes by itself when the account is healthy again.",
	campaign.ReasonAccountError:        "Campaign paused because Unipile reports an error on its sender account. It resumes by itself when the account is healthy again.",
	campaign.ReasonNeedsVerification:   "Campaign paused because LinkedIn asks its sender account for a verification. It resumes by itself once verified.",
	campaign.ReasonHighFailureRate:     "Campaign paused because too many recent sends failed at the provider. Check the failures, then resume it.",
	campaign.ReasonTemplateError:       "Campaign paused because a message template could not be filled for a prospect. Fix the template or the data, then resume it.",
}

// Campaign diagnoses one campaign at now.
func Campaign(ctx context.Context, deps Deps, workspaceID, campaignID string, now time.Time) (Report, error) {
	c, err := deps.Campaigns.Get(ctx, deps.DB.SQL, workspaceID, campaignID)
	if err != nil {
		return Report{}, err
	}
	return CampaignReport(ctx, deps, c, now)
}

// CampaignReport is Campaign for a campaign the caller has already read.
func CampaignReport(ctx context.Context, deps Deps, c campaign.Campaign, now time.Time) (Report, error) {
	var r Report
	switch c.Status {
	case campaign.StatusDraft:
		r.add("campaign_draft", Blocking, time.Time{}, "Campaign is a draft. Start it to send.")
	case campaign.StatusPaused:
		r.add("campaign_paused_"+string(c.PausedReason), Blocking, time.Time{}, "%s", pauseSentences[c.PausedReason])
	case campaign.StatusCompleted:
		r.add("campaign_completed", Info, time.Time{}, "Campaign completed: every prospect has finished the sequence.")
	case campaign.StatusArchived:
		r.add("campaign_archived", Blocking, time.Time{}, "Campaign is archived.")
	}
	actions := policy.CampaignActions(c)
	var senders []senderVerdicts
	for _, accID := range c.AccountIDs {
		a, err := deps.Accounts.Get(ctx, deps.DB.SQL, c.WorkspaceID, accID)
		if err != nil {
			return r, err
		}
		r.Senders = append(r.Senders, a)
		sv, err := verdicts(ctx, deps, a, &c, actions, now)
		if err != nil {
			return r, err
		}
		senders = append(senders, sv)
	}
	counts, err := deps.Campaigns.EnrollmentStates(ctx, deps.DB.SQL, c.ID)
	if err != nil {
		return r, err
	}
	r.Zone = commonZone(r.Senders)
	live := counts["pending"] + counts["active"] + counts["soft_paused"]
	if live == 0 && c.Status != campaign.StatusCompleted {
		r.add("no_prospects", Blocking, time.Time{}, "No enrollable prospects left: import prospects to continue.")
	}
	byStep, err := deps.Campaigns.DueByStep(ctx, deps.DB.SQL, c)
	if err != nil {
		return r, err
	}
	// The campaign's next due prospect is the earliest of its senders'.
	var nextDue time.Time
	for _, steps := range byStep {
		for _, at := range steps {
			if nextDue.IsZero() || at.Before(nextDue) {
				nextDue = at
			}
		}
	}
	// Which senders have prospects waiting at which action, and since when
	// they are due: the next action is one of those.
	due := map[string]map[policy.Action]time.Time{}
	for acc, steps := range byStep {
		for stepID, at := range steps {
			st, ok := campaign.StepByID(c.Steps, stepID)
			act, isAction := policy.StepAction(st.Type)
			if !ok || !isAction {
				continue
			}
			if due[acc] == nil {
				due[acc] = map[policy.Action]time.Time{}
			}
			if cur, seen := due[acc][act]; !seen || at.Before(cur) {
				due[acc][act] = at
			}
		}
	}
	next := addSenderFindings(&r, senders, due, now)
	if err := sendersDown(ctx, deps, c, &r); err != nil {
		return r, err
	}
	freeInMailOnce(&r, senders)
	waiting := counts["active"] > 0 && !nextDue.IsZero() && nextDue.After(now)
	if waiting && !next.ok && c.Status == campaign.StatusRunning {
		r.add("all_waiting", Info, nextDue, "%s; the next step is due at %s.", allWaiting(counts["active"]), policy.When(nextDue, r.Location(), now))
	}
	if n, err := deps.Campaigns.EndedAtCondition(ctx, deps.DB.SQL, c.ID); err != nil {
		return r, err
	} else if n > 0 {
		r.add("prospects_ended_by_timeout", Info, time.Time{}, "%s ended because a condition timed out (as authored: its else-branch is end).", prospects(n))
	}
	ended, err := deps.Campaigns.EndedFor(ctx, deps.DB.SQL, c.ID, campaign.EndedDoNotContact, campaign.EndedInvitationWithdrawn, campaign.EndedInOtherCampaign)
	if err != nil {
		return r, err
	}
	if n := ended[campaign.EndedDoNotContact]; n > 0 {
		r.add("prospects_do_not_contact", Info, time.Time{}, "%s ended because they are on the do-not-contact list.", prospects(n))
	}
	if n := ended[campaign.EndedInvitationWithdrawn]; n > 0 {
		r.add("prospects_invitation_withdrawn", Info, time.Time{}, "%s ended after their unanswered invitation was withdrawn.", prospects(n))
	}
	if n := ended[campaign.EndedInOtherCampaign]; n > 0 {
		r.add("prospects_in_other_campaign", Info, time.Time{}, "%s ended because another campaign of the workspace holds their sequence.", prospects(n))
	}
	if n, first, err := deps.Campaigns.ParkedBy(ctx, deps.DB.SQL, c.ID, policy.CodeRecentlyWithdrawn); err != nil {
		return r, err
	} else if n > 0 {
		r.add(policy.CodeRecentlyWithdrawn, Info, first, "%s wait for LinkedIn's three-week re-invite wait after a withdrawn invitation; the first may be invited at %s.",
			prospects(n), policy.When(first, r.Location(), now))
	}
	if n, _, err := deps.Campaigns.ParkedBy(ctx, deps.DB.SQL, c.ID, campaign.HoldCode); err != nil {
		return r, err
	} else if n > 0 {
		// Held, never sent "Hi , …" (docs/campaigns.md#holds).
		example, err := deps.Campaigns.HeldExample(ctx, deps.DB.SQL, c.ID)
		if err != nil {
			return r, err
		}
		lead := "1 prospect held: "
		if n > 1 {
			lead = prospects(n) + " held; the first: "
		}
		r.add("prospects_held", Info, time.Time{}, "%s%s. The others go on; editing the campaign or re-importing the prospects looks at them again.", lead, example)
	}
	if err := ledgerFindings(ctx, deps, c, now, &r); err != nil {
		return r, err
	}
	if c.Status == campaign.StatusRunning {
		if err := schedulerStalled(ctx, deps.DB, now, &r); err != nil {
			return r, err
		}
	}
	sortFindings(r.Findings)
	running := c.Status == campaign.StatusRunning && live > 0 && counts["active"] > 0 && !blockedEverywhere(r.Findings)
	switch {
	case running && next.ok:
		r.NextActionAt = timePtr(next.at)
	case running && !next.later.IsZero() && (!waiting || next.later.Before(nextDue)):
		r.NextActionAt = timePtr(next.later)
	case running && waiting:
		r.NextActionAt = timePtr(nextDue)
	}
	r.Sending = running && next.ok
	r.lead(next, "Campaign is sending.", now)
	return r, nil
}

// UnmatchedWindow is how far back the diagnosis counts accepts that
// matched no prospect.
const UnmatchedWindow = 7 * 24 * time.Hour

// ledgerFindings adds what waits for a person: sends whose outcome is
// unknown (docs/sending.md#settling-by-hand) and, for a campaign waiting
// on accepts, accepts on its senders that matched no prospect
// (docs/campaigns.md#matching-accepts).
func ledgerFindings(ctx context.Context, deps Deps, c campaign.Campaign, now time.Time, r *Report) error {
	unknown, err := send.CampaignUnknown(ctx, deps.DB.SQL, c.ID)
	if err != nil {
		return err
	}
	if n := len(unknown); n > 0 {
		r.add("unknown_outcomes", Limiting, time.Time{}, "%s waiting at a step whose send may or may not have reached LinkedIn (e.g. send %s): "+
			"check LinkedIn, then settle each as sent or not sent (keel sends settle ID --outcome sent|not_sent, or the Settle buttons below).",
			prospects(n), unknown[0].ID)
	}
	waitsOnAccept := false
	for _, st := range c.Steps {
		if st.Type == campaign.StepIfAccepted {
			waitsOnAccept = true
		}
	}
	if !waitsOnAccept {
		return nil
	}
	since := now.Add(-UnmatchedWindow)
	n, oldest, err := send.UnmatchedAccepts(ctx, deps.DB.SQL, c.WorkspaceID, append([]string{}, c.AccountIDs...), since)
	if err != nil {
		return err
	}
	if n > 0 {
		// It clears when the oldest of them leaves the window.
		r.add("unmatched_accepts", Info, oldest.Add(UnmatchedWindow), "%d accepted invitation(s) on this campaign's senders in the last 7 days matched no prospect: "+
			"a prospect waiting on if_accepted may be among them. Check that each prospect was imported with the profile that was invited.", n)
	}
	return nil
}

// senderVerdicts are one sender's verdicts for the actions asked about.
type senderVerdicts struct {
	account  account.Account
	verdicts map[policy.Action]policy.Verdict
	order    []policy.Action
}

// verdicts asks the one policy about each action of a sender, on the
// snapshot the claim would read (docs/sending.md#one-policy).
func verdicts(ctx context.Context, deps Deps, a account.Account, c *campaign.Campaign, actions []policy.Action, now time.Time) (senderVerdicts, error) {
	sv := senderVerdicts{account: a, verdicts: map[policy.Action]policy.Verdict{}, order: actions}
	for _, act := range actions {
		snap, err := send.ReadSnapshot(ctx, deps.DB.SQL, send.SnapshotRequest{Account: a, Campaign: c, Action: act,
			WithNote: act == policy.ActionInvite && c != nil && invitesWithNote(*c), Pacing: deps.pacing(a), Now: now})
		if err != nil {
			return sv, err
		}
		sv.verdicts[act] = policy.Decide(snap, now, policy.Draw{})
	}
	return sv, nil
}

// nextAction is the earliest action some sender may take, and which; later
// is when the earliest held one clears, when nothing may act.
type nextAction struct {
	ok     bool
	at     time.Time
	action policy.Action
	sender account.Account
	later  time.Time
}

// addSenderFindings turns the senders' verdicts into findings and returns
// the earliest action any of them may take: now when one may act, its
// pacing time when the only wait is pacing, never before a prospect is due
// for it. due, when not nil, says which actions each sender has prospects
// waiting for and since when (a campaign); nil considers every action (an
// account). Holds are blocking only when no sender can act at all;
// otherwise they limit.
func addSenderFindings(r *Report, senders []senderVerdicts, due map[string]map[policy.Action]time.Time, now time.Time) nextAction {
	var next nextAction
	connected := 0
	for _, sv := range senders {
		if sv.account.Status == account.StatusConnected {
			connected++
		}
		for _, act := range sv.order {
			v := sv.verdicts[act]
			at := now
			if due != nil {
				d, ok := due[sv.account.ID][act]
				if !ok {
					continue // nobody waits for this action of this sender
				}
				at = later(at, d)
			}
			switch {
			case v.Allowed:
			case v.Code == policy.CodePacing:
				at = later(at, v.Until)
			default:
				if !v.Until.IsZero() {
					if held := later(at, v.Until); next.later.IsZero() || held.Before(next.later) {
						next.later = held
					}
				}
				continue
			}
			if !next.ok || at.Before(next.at) {
				next = nextAction{ok: true, at: at, action: act, sender: sv.account, later: next.later}
			}
		}
	}
	seen := map[string]bool{}
	for _, sv := range senders {
		for _, act := range sv.order {
			v := sv.verdicts[act]
			if v.Allowed {
				continue
			}
			// One sentence per sender for holds that do not depend on the action.
			key := sv.account.ID + "/" + v.Code
			if v.Code != policy.CodeNotConnected && v.Code != policy.CodeWindow && v.Code != policy.CodePacing && v.Code != policy.CodeIncident {
				key += "/" + string(act)
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			sev := Limiting
			switch {
			case v.Code == policy.CodePacing:
				sev = Info
			case next.ok:
			case v.Code == policy.CodeNotConnected && connected == 0, v.Code == policy.CodeWindow, v.Code == policy.CodeIncident:
				sev = Blocking
			}
			r.Findings = append(r.Findings, Finding{Code: v.Code, Severity: sev, Message: v.Message, ClearsAt: at(v.Until), Zone: zoneOf(sv.account)})
		}
	}
	return next
}

// CodeSendersDown is the finding of a campaign that sends on some of its
// senders while others are down (docs/campaigns.md#senders).
const CodeSendersDown = "senders_down"

// sendersDown says, for a campaign with some senders connected and some
// not, on how many it sends and how many prospects wait for each one
// that is down: "Sending on 1 of 2 senders; 3 prospects wait for Acct MB
// to reconnect."
func sendersDown(ctx context.Context, deps Deps, c campaign.Campaign, r *Report) error {
	var up int
	var down []account.Account
	for _, a := range r.Senders {
		if a.Status == account.StatusConnected {
			up++
		} else {
			down = append(down, a)
		}
	}
	if up == 0 || len(down) == 0 {
		return nil
	}
	waiting, err := deps.Campaigns.WaitingBySender(ctx, deps.DB.SQL, c.ID)
	if err != nil {
		return err
	}
	parts := make([]string, len(down))
	for i, a := range down {
		n := waiting[a.ID]
		verb := "wait"
		if n == 1 {
			verb = "waits"
		}
		parts[i] = fmt.Sprintf("%s %s for %s to reconnect", prospects(n), verb, policy.Label(a))
	}
	r.add(CodeSendersDown, Limiting, time.Time{}, "Sending on %d of %d senders; %s.", up, len(r.Senders), strings.Join(parts, "; "))
	return nil
}

// freeInMailOnce replaces the per-sender "Free accounts cannot send
// InMails" findings of a campaign that also has a paid sender by one
// sentence: the engine hands those InMail steps to the paid senders
// (docs/campaigns.md#senders).
func freeInMailOnce(r *Report, senders []senderVerdicts) {
	paid := false
	for _, sv := range senders {
		paid = paid || sv.account.Tier != account.TierFree
	}
	if !paid {
		return
	}
	kept := r.Findings[:0]
	found := false
	for _, f := range r.Findings {
		if f.Code == policy.CodeFreeInMail {
			found = true
			continue
		}
		kept = append(kept, f)
	}
	r.Findings = kept
	if found {
		r.add(policy.CodeFreeInMail, Info, time.Time{}, "Free accounts cannot send InMails; InMail steps go through the campaign's other senders.")
	}
}

// lead puts the good news first when sending and writes the headline.
func (r *Report) lead(next nextAction, good string, now time.Time) {
	if r.Sending {
		_, loc := policy.AccountWindow(next.sender)
		r.Zone = loc.String()
		if next.at.After(now) {
			good = fmt.Sprintf("%s The next %s, from %s, is due at %s.", good, policy.Noun(next.action), policy.Label(next.sender), policy.When(next.at, loc, now))
		}
		r.Findings = append([]Finding{{Code: "sending", Severity: Info, Message: good, ClearsAt: r.NextActionAt, Zone: r.Zone}}, r.Findings...)
		if next.at.After(now) {
			r.Headline = fmt.Sprintf("Sending — next %s from %s at %s", policy.Noun(next.action), policy.Label(next.sender), policy.When(next.at, loc, now))
		} else {
			r.Headline = fmt.Sprintf("Sending — %s can send the next %s now", policy.Label(next.sender), policy.Noun(next.action))
		}
	} else if len(r.Findings) > 0 {
		r.Headline = "Not sending: " + r.Findings[0].Message
	} else {
		r.Headline = "Not sending."
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
}

// later is the later of two times.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func timePtr(t time.Time) *time.Time {
	u := t.UTC()
	return &u
}

// allWaiting words "all n active prospects are waiting" for any n.
func allWaiting(n int) string {
	if n == 1 {
		return "The one active prospect is waiting"
	}
	return fmt.Sprintf("All %d active prospects are waiting", n)
}

// prospects words a count of prospects.
func prospects(n int) string {
	if n == 1 {
		return "1 prospect"
	}
	return fmt.Sprintf("%d prospects", n)
}

// schedulerStalled adds a blocking finding when the campaign scheduler has
// gone too long without a completed pass (jobs.Stalled): nothing is sent
// until it runs again, whatever the campaign's own state. A scheduler that
// never started anywhere says nothing (a fresh installation).
func schedulerStalled(ctx context.Context, d *db.DB, now time.Time, r *Report) error {
	run, err := jobs.TaskRunOf(ctx, d.SQL, jobs.TaskCampaignScheduler)
	if err != nil || run == nil {
		return err
	}
	s := jobs.Stalled(run, jobs.TimingFor(run.Every), time.Time{}, now)
	if !s.Stale {
		return nil
	}
	if s.LastCompleted.IsZero() {
		r.add("scheduler_stalled", Blocking, time.Time{}, "The campaign scheduler has not completed a pass since it was first started at %s; sending is stalled until it does.",
			clockTime(s.Since, now))
	} else {
		r.add("scheduler_stalled", Blocking, time.Time{}, "The campaign scheduler has not run since %s; sending is stalled until it does.",
			clockTime(s.LastCompleted, now))
	}
	return nil
}

// clockTime shows t as a time of day (UTC), with its date unless it is now's.
func clockTime(t, now time.Time) string {
	t, now = t.UTC(), now.UTC()
	if t.Format(time.DateOnly) == now.Format(time.DateOnly) {
		return t.Format("15:04 UTC")
	}
	return t.Format("2006-01-02 15:04 UTC")
}

func blockedEverywhere(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == Blocking {
			return true
		}
	}
	return false
}

// invitesWithNote reports whether a campaign has an invitation step with a
// note (the engine's notes gate applies only to those).
func invitesWithNote(c campaign.Campaign) bool {
	for _, st := range c.Steps {
		if st.Type == campaign.StepInvite && strings.TrimSpace(st.Note) != "" {
			return true
		}
	}
	return false
}

func sortFindings(fs []Finding) {
	rank := map[string]int{Blocking: 0, Limiting: 1, Info: 2}
	sort.SliceStable(fs, func(i, j int) bool { return rank[fs[i].Severity] < rank[fs[j].Severity] })
}

// Account diagnoses one account at now, for every action type.
func Account(ctx context.Context, deps Deps, workspaceID, accountID string, now time.Time) (Report, error) {
	var r Report
	a, err := deps.Accounts.Get(ctx, deps.DB.SQL, workspaceID, accountID)
	if err != nil {
		return r, err
	}
	r.Zone = zoneOf(a)
	if a.Status == account.StatusConnected && a.LastError != "" {
		r.add("account_soft_error", Info, time.Time{}, "%s", a.LastError)
	}
	sv, err := verdicts(ctx, deps, a, nil, policy.Actions, now)
	if err != nil {
		return r, err
	}
	next := addSenderFindings(&r, []senderVerdicts{sv}, nil, now)
	sortFindings(r.Findings)
	if next.ok {
		r.NextActionAt = timePtr(next.at)
	}
	r.Sending = next.ok && !blockedEverywhere(r.Findings)
	r.lead(next, "Account can send.", now)
	return r, nil
}
