package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/connect"
	"github.com/keel-outreach/keel/internal/diagnose"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
)

// settingsForm is the account settings form's values, as typed.
type settingsForm struct {
	Tier     string
	Timezone string
	Days     []string
	Start    string
	End      string
	Caps     map[string]string
	// Spread, MinGap and MaxGap are the pacing settings
	// (docs/sending.md#pacing).
	Spread         bool
	MinGap, MaxGap string
	// WithdrawAfter is withdraw_after_days as typed; the pending cap and
	// the withdrawals per day are in Caps
	// (docs/sending.md#pending-invitations, docs/sending.md#withdrawals).
	WithdrawAfter string
}

type accountData struct {
	Row      accountRow
	Form     settingsForm
	Errors   map[string]string
	Audit    []account.AuditEntry
	Tiers    []account.Tier
	Weekdays []string
	CapNames []capField
	// PendingNames are the caps of the pending-invitations fieldset.
	PendingNames []capField
	// Panel is the account's "why isn't it sending?" diagnosis.
	Panel diagnosisPanel
	// Credits is the InMail credits breaker holding the account, nil when
	// none: the page then offers the top-up button
	// (docs/sending.md#inmail-credits). LastTopUp is the latest recorded
	// top-up, nil when none.
	Credits   *send.Block
	LastTopUp *send.TopUp
	// FormErrors is Errors in the settings form's order, for the shared
	// summary (form.go); Zones is the time zone <select>'s options.
	FormErrors formErrors
	Zones      []string
	// Ramp is the five-week ramp schedule, RampColumns its caps' names.
	Ramp        []rampWeek
	RampColumns []string
	// Tags are the account's tags; TagInput and TagError a refused tag.
	Tags     []string
	TagInput string
	TagError string
	// Campaigns are the workspace's campaigns that send through the
	// account.
	Campaigns []campaign.Campaign
	// Failures are the account's failed or abandoned reconnects
	// (docs/accounts.md#failed-reconnects), newest first.
	Failures []connect.Failure
}

// settingsFields is the settings form's inputs in page order, for its
// error summary.
var settingsFields = func() []formField {
	out := []formField{{"tier", "tier", "LinkedIn subscription (tier)"}, {"timezone", "timezone", "Time zone"},
		{"window.days", "day-mon", "Sending days"}, {"window.start", "start", "Window start"}, {"window.end", "end", "Window end"}}
	for _, c := range capFields {
		out = append(out, formField{"caps." + c.Name, "cap_" + c.Name, c.Label})
	}
	out = append(out, formField{"pacing.min_gap_seconds", "pacing_min_gap_seconds", "Shortest gap between two actions"},
		formField{"pacing.max_gap_seconds", "pacing_max_gap_seconds", "Longest gap between two actions"})
	for _, c := range pendingCapFields {
		out = append(out, formField{"caps." + c.Name, "cap_" + c.Name, c.Label})
	}
	return append(out, formField{"withdraw_after_days", "withdraw_after_days", "Withdraw invitations older than"})
}()

var capFields = []capField{
	{"invite_daily", "Invitations per day"}, {"invite_weekly", "Invitations per 7 days"},
	{"message_daily", "Messages per day"}, {"inmail_daily", "InMails per day"},
	{"view_profile_daily", "Profile views per day"},
}

// pendingCapFields are the caps shown with withdraw_after_days, under
// "Pending invitations" (docs/sending.md#pending-invitations).
var pendingCapFields = []capField{
	{"invite_pending", "Most pending invitations"}, {"withdraw_daily", "Withdrawals per day"},
}

var weekdayNames = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

func formFromAccount(a account.Account) settingsForm {
	return settingsForm{Tier: string(a.Tier), Timezone: a.Timezone, Days: a.Window.Days, Start: a.Window.Start, End: a.Window.End,
		Caps: map[string]string{
			"invite_daily": strconv.Itoa(a.Caps.InviteDaily), "invite_weekly": strconv.Itoa(a.Caps.InviteWeekly),
			"message_daily": strconv.Itoa(a.Caps.MessageDaily), "inmail_daily": strconv.Itoa(a.Caps.InMailDaily),
			"view_profile_daily": strconv.Itoa(a.Caps.ViewProfileDaily),
			"invite_pending":     strconv.Itoa(a.Caps.InvitePending), "withdraw_daily": strconv.Itoa(a.Caps.WithdrawDaily),
		},
		Spread: a.Pacing.SpreadOverWindow, MinGap: strconv.Itoa(a.Pacing.MinGapSeconds), MaxGap: strconv.Itoa(a.Pacing.MaxGapSeconds),
		WithdrawAfter: strconv.Itoa(a.WithdrawAfterDays)}
}

// accountPage shows one account: its limits, settings form and audit trail.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	s.showAccount(w, r, nil, nil)
}

// showAccount renders the account page; with a form it shows the values
// as typed and their errors (422).
func (s *Server) showAccount(w http.ResponseWriter, r *http.Request, form *settingsForm, errs map[string]string) {
	s.showAccountWith(w, r, accountView{form: form, errs: errs})
}

// accountView is what a handler adds to the account page: a settings
// form as typed with its errors, or a refused tag.
type accountView struct {
	form     *settingsForm
	errs     map[string]string
	tagInput string
	tagError string
}

// showAccountWith renders the account page with v; anything refused
// answers 422.
func (s *Server) showAccountWith(w http.ResponseWriter, r *http.Request, v accountView) {
	form, errs := v.form, v.errs
	sess := sessionFrom(r)
	a, err := s.opts.Accounts.Get(r.Context(), s.opts.DB.SQL, sess.WorkspaceID, r.PathValue("id"))
	if errors.Is(err, account.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := s.accountRows(r.Context(), []account.Account{a})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	audit, err := s.opts.Accounts.Audit(r.Context(), s.opts.DB.SQL, a.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.opts.Clock.Now()
	rep, err := diagnose.Account(r.Context(), diagnose.Deps{DB: s.opts.DB, Accounts: s.opts.Accounts, Campaigns: s.opts.Campaigns,
		MinSpacing: s.opts.MinSpacing}, sess.WorkspaceID, a.ID, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	credits, err := send.ActiveBlock(r.Context(), s.opts.DB.SQL, a.ID, policy.ActionInMail, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if credits != nil && credits.Kind != policy.BlockCredits {
		credits = nil
	}
	topUp, err := send.LastTopUp(r.Context(), s.opts.DB.SQL, a.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tags, err := account.TagsOf(r.Context(), s.opts.DB.SQL, a.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	failures, err := connect.Failures(r.Context(), s.opts.DB.SQL, a.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	camps, err := s.opts.Campaigns.List(r.Context(), s.opts.DB.SQL, campaign.ListOptions{WorkspaceID: sess.WorkspaceID})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	camps = slices.DeleteFunc(camps, func(c campaign.Campaign) bool { return !slices.Contains(c.AccountIDs, a.ID) })
	// Newest first reads better as a timeline.
	slices.Reverse(audit)
	f := formFromAccount(a)
	status := http.StatusOK
	if form != nil {
		f = *form
		status = http.StatusUnprocessableEntity
	}
	if v.tagError != "" {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, "account", page{Title: a.Name, Nav: "accounts", Data: accountData{Row: rows[0], Form: f, Errors: errs,
		Audit: audit, Tiers: []account.Tier{account.TierFree, account.TierPremium, account.TierSalesNavigator, account.TierRecruiter},
		Weekdays: weekdayNames, CapNames: capFields, PendingNames: pendingCapFields, Panel: newDiagnosisPanel(rep, now),
		Credits: credits, LastTopUp: topUp, FormErrors: newFormErrors(settingsFields, errs), Zones: zoneOptions(f.Timezone),
		Ramp: rampSchedule(a, now), RampColumns: rampColumns, Tags: tags, TagInput: v.tagInput, TagError: v.tagError,
		Campaigns: camps, Failures: failures}})
}
