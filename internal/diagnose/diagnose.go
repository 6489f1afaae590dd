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
}

// Report is the answer.
type Report struct {
	Sending  bool      `json:"sending"`
	Findings []Finding `json:"findings"`
	// Senders are the campaign's sender accounts as the diagnosis read
	// them, for callers that show them too (not part of the JSON).
	Senders []account.Account `json:"-"`
}

// Deps are the services diagnosis reads from.
type Deps struct {
	DB        *db.DB
	Accounts  *account.Service
	Campaigns *campaign.Service
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
	actions := map[send.Action]bool{}
	for _, s := range c.Steps {
		if act, ok := send.StepAction(s.Type); ok {
			actions[act] = true
		}
	}
	connected, free := 0, 0
	var senderFindings Report
	for _, accID := range c.AccountIDs {
		a, err := deps.Accounts.Get(ctx, deps.DB.SQL, c.WorkspaceID, accID)
		if err != nil {
			return r, err
		}
		r.Senders = append(r.Senders, a)
		if a.Status != account.StatusConnected {
			msg := fmt.Sprintf("Sender %s is %s.", label(a), a.Status)
			if a.LastError != "" {
				msg += " " + a.LastError
			}
			senderFindings.add(send.GateNotConnected, Blocking, time.Time{}, "%s", msg)
			continue
		}
		connected++
		limited, err := accountLimits(ctx, deps, a, c, actions, now, &senderFindings)
		if err != nil {
			return r, err
		}
		for act := range actions {
			if !limited[act] {
				free++
			}
		}
	}
	if connected == 0 && len(c.AccountIDs) > 0 {
		r.Findings = append(r.Findings, senderFindings.Findings...)
	}
	counts, err := deps.Campaigns.EnrollmentStates(ctx, deps.DB.SQL, c.ID)
	if err != nil {
		return r, err
	}
	nextDue, err := deps.Campaigns.NextDue(ctx, deps.DB.SQL, c.ID)
	if err != nil {
		return r, err
	}
	live := counts["pending"] + counts["active"] + counts["soft_paused"]
	if live == 0 && c.Status != campaign.StatusCompleted {
		r.add("no_prospects", Blocking, time.Time{}, "No enrollable prospects left: import prospects to continue.")
	}
	if connected > 0 {
		r.Findings = append(r.Findings, senderFindings.Findings...)
	}
	waiting := counts["active"] > 0 && !nextDue.IsZero() && nextDue.After(now)
	if waiting && c.Status == campaign.StatusRunning {
		r.add("all_waiting", Info, nextDue, "All %d active prospects are waiting; the next action is due at %s.", counts["active"], nextDue.UTC().Format(time.RFC3339))
	}
	if n, err := deps.Campaigns.EndedAtCondition(ctx, deps.DB.SQL, c.ID); err != nil {
		return r, err
	} else if n > 0 {
		r.add("prospects_ended_by_timeout", Info, time.Time{}, "%d prospects ended because a condition timed out (as authored: its else-branch is end).", n)
	}
	if c.Status == campaign.StatusRunning {
		if err := schedulerStalled(ctx, deps.DB, now, &r); err != nil {
			return r, err
		}
	}
	sortFindings(r.Findings)
	r.Sending = c.Status == campaign.StatusRunning && free > 0 && live > 0 && !waiting && !blockedEverywhere(r.Findings)
	if r.Sending {
		r.Findings = append([]Finding{{Code: "sending", Severity: Info, Message: "Campaign is sending normally."}}, r.Findings...)
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	return r, nil
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

func label(a account.Account) string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

// accountLimits adds the gates that hold an account back now and returns
// the actions it cannot take at the moment.
func accountLimits(ctx context.Context, deps Deps, a account.Account, c campaign.Campaign, actions map[send.Action]bool, now time.Time, r *Report) (map[send.Action]bool, error) {
	limited := map[send.Action]bool{}
	win, loc := send.AccountWindow(a)
	if !win.Contains(now, loc) {
		opens := win.NextOpen(now, loc)
		for act := range actions {
			limited[act] = true
		}
		r.add(send.GateWindow, Blocking, opens, "Sender %s is outside its sending window (%s %s–%s, %s); it opens at %s.",
			label(a), strings.Join(a.Window.Days, ","), a.Window.Start, a.Window.End, a.Timezone, opens.In(loc).Format("Mon 15:04 MST"))
	}
	day := send.UTCDayStart(now)
	limits, err := send.Limits(ctx, deps.DB.SQL, a, now)
	if err != nil {
		return nil, err
	}
	for _, l := range limits {
		if !actions[l.Action] || l.Remaining > 0 {
			continue
		}
		limited[l.Action] = true
		code := send.GateDailyCap
		if l.Period == "7d" {
			code = send.GateWeeklyCap
		}
		if l.Binding == send.BindingRamp {
			r.add("ramp_binding", Limiting, l.ResetsAt, "Sender %s reached its ramped %s cap (%d, week %d of 5 of its ramp); it resets at %s.",
				label(a), l.Action, l.Cap, send.RampWeek(a.RampStartedAt, now), l.ResetsAt.Format(time.RFC3339))
			continue
		}
		r.add(code, Limiting, l.ResetsAt, "Sender %s reached its %s %s cap (%d, %s); it resets at %s.",
			label(a), periodWord(l.Period), l.Action, l.Cap, l.Binding, l.ResetsAt.Format(time.RFC3339))
	}
	// A Free account sends at most FreeNotesPer30Days invitations with a
	// note; the engine holds noted invitations back once they are used.
	if actions[send.ActionInvite] && !limited[send.ActionInvite] && a.Tier == account.TierFree && invitesWithNote(c) {
		n, oldest, err := send.NotesUsed(ctx, deps.DB.SQL, a.ID, now)
		if err != nil {
			return nil, err
		}
		if n >= send.FreeNotesPer30Days {
			limited[send.ActionInvite] = true
			frees := oldest.Add(30 * 24 * time.Hour)
			r.add(send.GateNotes, Limiting, frees, "Sender %s (Free) used its %d invitation notes of 30 days; invitations with a note wait until %s.",
				label(a), send.FreeNotesPer30Days, frees.Format(time.RFC3339))
		}
	}
	for act := range actions {
		b, err := send.ActiveBlock(ctx, deps.DB.SQL, a.ID, act, now)
		if err != nil {
			return nil, err
		}
		if b == nil {
			continue
		}
		limited[act] = true
		if b.Kind == send.BlockCredits {
			r.add(send.GateCredits, Limiting, b.Until, "Sender %s has no InMail credits; InMails wait until %s. Other actions continue.",
				label(a), b.Until.Format(time.RFC3339))
		} else {
			r.add(send.GateCooldown, Limiting, b.Until, "Sender %s got a LinkedIn limit signal for %s; that action cools down until %s.",
				label(a), act, b.Until.Format(time.RFC3339))
		}
	}
	if c.ID != "" {
		for act := range actions {
			share := send.CampaignDailyCap(c, act)
			used, err := send.CampaignUsed(ctx, deps.DB.SQL, c.ID, a.ID, act, day)
			if err != nil {
				return nil, err
			}
			if used >= share {
				limited[act] = true
				r.add(send.GateCampaignCap, Limiting, day.Add(24*time.Hour), "Campaign's daily %s share on sender %s is used (%d); it resets at %s.",
					act, label(a), share, day.Add(24*time.Hour).Format(time.RFC3339))
			}
		}
	}
	return limited, nil
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

func periodWord(p string) string {
	if p == "7d" {
		return "7-day"
	}
	return "daily"
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
	if a.Status != account.StatusConnected {
		msg := fmt.Sprintf("Account is %s.", a.Status)
		if a.LastError != "" {
			msg += " " + a.LastError
		}
		r.add(send.GateNotConnected, Blocking, time.Time{}, "%s", msg)
	} else if a.LastError != "" {
		r.add("account_soft_error", Info, time.Time{}, "%s", a.LastError)
	}
	all := map[send.Action]bool{}
	for _, act := range send.Actions {
		all[act] = true
	}
	canSend := false
	if a.Status == account.StatusConnected {
		limited, err := accountLimits(ctx, deps, a, campaign.Campaign{}, all, now, &r)
		if err != nil {
			return r, err
		}
		canSend = len(limited) < len(all)
	}
	sortFindings(r.Findings)
	r.Sending = canSend && !blockedEverywhere(r.Findings)
	if r.Sending {
		r.Findings = append([]Finding{{Code: "sending", Severity: Info, Message: "Account can send now."}}, r.Findings...)
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	return r, nil
}
