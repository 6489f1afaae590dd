package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/send"
)

// PageSize is how many rows a list page shows.
const PageSize = 50

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
}

type accountsData struct {
	Rows []accountRow
	Next string
	Prev bool
}

// accountsPage lists the workspace's accounts, PageSize at a time (keyset
// by id). Usage comes from one grouped ledger query for the whole page.
func (s *Server) accountsPage(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	after := r.URL.Query().Get("after")
	accs, err := s.opts.Accounts.List(r.Context(), s.opts.DB.SQL, account.ListOptions{WorkspaceID: sess.WorkspaceID, After: after, Limit: PageSize + 1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := accountsData{Prev: after != ""}
	if len(accs) > PageSize {
		accs = accs[:PageSize]
		data.Next = accs[len(accs)-1].ID
	}
	rows, err := s.accountRows(r.Context(), accs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data.Rows = rows
	s.render(w, r, http.StatusOK, "accounts", page{Title: "LinkedIn accounts", Nav: "accounts", Data: data})
}

// accountRows builds the table rows from send.LimitsFor: one grouped ledger
// query for the page, plus one per account whose rolling weekly invite cap
// is full (to find when its oldest invite ages out).
func (s *Server) accountRows(ctx context.Context, accs []account.Account) ([]accountRow, error) {
	now := s.opts.Clock.Now()
	limits, err := send.LimitsFor(ctx, s.opts.DB.SQL, accs, now)
	if err != nil {
		return nil, err
	}
	out := make([]accountRow, 0, len(accs))
	for _, a := range accs {
		row := accountRow{Account: a, Pill: statusPill(a), RampWeek: send.RampWeek(a.RampStartedAt, now), RampWeeks: len(send.RampWeeks)}
		for _, l := range limits[a.ID] {
			lr := limitRow{Action: string(l.Action), Period: "today", Used: l.Used, Cap: l.Cap, Remaining: l.Remaining,
				ResetsAt: l.ResetsAt.Format("Jan 2 15:04 UTC"), Binding: string(l.Binding)}
			if l.Period == "7d" {
				lr.Period = "7 days"
				if l.Used < l.Cap {
					lr.ResetsAt = "rolling"
				}
			}
			row.Limits = append(row.Limits, lr)
		}
		out = append(out, row)
	}
	return out, nil
}

func (s *Server) connectAccount(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	link, err := s.opts.Connect.CreateLink(r.Context(), sess.WorkspaceID)
	if err != nil {
		s.opts.Logger.Warn("creating a connect link failed", "error", err)
		s.flashRedirect(w, r, "/accounts", "Could not start connecting an account: the provider did not answer. Try again in a moment.")
		return
	}
	s.toProvider(w, r, link)
}

// toProvider sends the browser to a hosted-auth link: a redirect when the
// link is on Keel's own origin or one the Content-Security-Policy names
// (form-action governs a form's redirects), otherwise a page with a plain
// link, which form-action does not govern.
func (s *Server) toProvider(w http.ResponseWriter, r *http.Request, link string) {
	u, err := url.Parse(link)
	if err != nil || (u.Host != "" && u.Scheme != "https" && u.Scheme != "http") {
		s.fail(w, r, fmt.Errorf("hosted-auth link %q is not an http(s) URL", link))
		return
	}
	allowed := u.Host == "" || u.Host == r.Host
	for _, o := range s.opts.FormActionOrigins {
		allowed = allowed || strings.EqualFold(o, u.Scheme+"://"+u.Host)
	}
	if allowed {
		http.Redirect(w, r, link, http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "continue", page{Title: "Continue to the sign-in", Nav: "accounts", Data: link})
}

func (s *Server) reconnectAccount(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	link, err := s.opts.Connect.ReconnectLink(r.Context(), sess.WorkspaceID, r.PathValue("id"))
	if errors.Is(err, account.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.opts.Logger.Warn("creating a reconnect link failed", "error", err)
		s.flashRedirect(w, r, "/accounts", "Could not start the reconnect: the provider did not answer. Try again in a moment.")
		return
	}
	s.toProvider(w, r, link)
}

// settingsForm is the account settings form's values, as typed.
type settingsForm struct {
	Tier     string
	Timezone string
	Days     []string
	Start    string
	End      string
	Caps     map[string]string
}

type accountData struct {
	Row      accountRow
	Form     settingsForm
	Errors   map[string]string
	Audit    []account.AuditEntry
	Tiers    []account.Tier
	Weekdays []string
	CapNames []capField
}

type capField struct {
	Name  string
	Label string
}

var capFields = []capField{
	{"invite_daily", "Invitations per day"}, {"invite_weekly", "Invitations per 7 days"},
	{"message_daily", "Messages per day"}, {"inmail_daily", "InMails per day"},
	{"view_profile_daily", "Profile views per day"},
}

var weekdayNames = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

func formFromAccount(a account.Account) settingsForm {
	return settingsForm{Tier: string(a.Tier), Timezone: a.Timezone, Days: a.Window.Days, Start: a.Window.Start, End: a.Window.End,
		Caps: map[string]string{
			"invite_daily": strconv.Itoa(a.Caps.InviteDaily), "invite_weekly": strconv.Itoa(a.Caps.InviteWeekly),
			"message_daily": strconv.Itoa(a.Caps.MessageDaily), "inmail_daily": strconv.Itoa(a.Caps.InMailDaily),
			"view_profile_daily": strconv.Itoa(a.Caps.ViewProfileDaily),
		}}
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	s.showAccount(w, r, nil, nil)
}

func (s *Server) showAccount(w http.ResponseWriter, r *http.Request, form *settingsForm, errs map[string]string) {
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
	// Newest first reads better as a timeline.
	slices.Reverse(audit)
	f := formFromAccount(a)
	status := http.StatusOK
	if form != nil {
		f = *form
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, "account", page{Title: a.Name, Nav: "accounts", Data: accountData{Row: rows[0], Form: f, Errors: errs,
		Audit: audit, Tiers: []account.Tier{account.TierFree, account.TierPremium, account.TierSalesNavigator, account.TierRecruiter},
		Weekdays: weekdayNames, CapNames: capFields}})
}

func (s *Server) saveAccount(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	f := settingsForm{Tier: r.PostFormValue("tier"), Timezone: strings.TrimSpace(r.PostFormValue("timezone")),
		Days: r.PostForm["days"], Start: r.PostFormValue("start"), End: r.PostFormValue("end"), Caps: map[string]string{}}
	errs := map[string]string{}
	tier := account.Tier(f.Tier)
	win := account.WindowSpec{Days: f.Days, Start: f.Start, End: f.End}
	caps := account.CapsPatch{}
	targets := map[string]**int{"invite_daily": &caps.InviteDaily, "invite_weekly": &caps.InviteWeekly,
		"message_daily": &caps.MessageDaily, "inmail_daily": &caps.InMailDaily, "view_profile_daily": &caps.ViewProfileDaily}
	for _, c := range capFields {
		v := strings.TrimSpace(r.PostFormValue("cap_" + c.Name))
		f.Caps[c.Name] = v
		n, err := strconv.Atoi(v)
		if err != nil {
			errs["caps."+c.Name] = "enter a whole number"
			continue
		}
		*targets[c.Name] = &n
	}
	if len(errs) > 0 {
		s.showAccount(w, r, &f, errs)
		return
	}
	_, err := s.opts.Accounts.UpdateSettings(r.Context(), sess.WorkspaceID, r.PathValue("id"),
		account.SettingsPatch{Tier: &tier, Timezone: &f.Timezone, Window: &win, Caps: &caps, Actor: "user:" + sess.Email})
	var verr *account.ValidationError
	switch {
	case errors.As(err, &verr):
		for _, fe := range verr.Fields {
			errs[fe.Field] = fe.Msg
		}
		s.showAccount(w, r, &f, errs)
		return
	case errors.Is(err, account.ErrNotFound):
		http.NotFound(w, r)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "/accounts/"+r.PathValue("id"), "Settings saved.")
}
