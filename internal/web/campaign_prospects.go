package web

// The campaign page's prospect list: filters, one page of rows, the hold
// or error of each (docs/surfaces.md#the-campaign-page).

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/policy"
)

// holdWords says in words what parked_by holds a prospect for.
var holdWords = map[string]string{
	campaign.HeldByPerson:         "Paused by a person",
	policy.CodeNotConnected:       "Sender not connected",
	policy.CodeCooldown:           "Sender cooling down after a LinkedIn limit",
	policy.CodeCredits:            "No InMail credits",
	policy.CodeFreeInMail:         "Free sender cannot send InMail",
	policy.CodeWindow:             "Outside the sender's window",
	policy.CodeDailyCap:           "Sender's daily cap reached",
	policy.CodeRamp:               "Sender's ramp-up cap reached",
	policy.CodeWeeklyCap:          "Sender's weekly invitation cap reached",
	policy.CodeNotes:              "Free tier note allowance used",
	policy.CodeCampaignCap:        "Campaign's share of the sender used",
	policy.CodePacing:             "Pacing between actions",
	policy.CodeIncident:           "Provider incident",
	policy.CodeDoNotContact:       "On the do-not-contact list",
	policy.CodePendingInvitations: "Too many pending invitations",
	policy.CodeRecentlyWithdrawn:  "Invitation recently withdrawn",
}

// holdInWords is parked_by in words (the code itself when unknown).
func holdInWords(code string) string {
	if w, ok := holdWords[code]; ok {
		return w
	}
	return strings.ReplaceAll(code, "_", " ")
}

// prospectFilter is the list's filter as the page's query string carries
// it.
type prospectFilter struct {
	State, Step, Search, After string
}

func readProspectFilter(q url.Values) prospectFilter {
	f := prospectFilter{State: q.Get("state"), Step: q.Get("step"), Search: strings.TrimSpace(q.Get("q")), After: q.Get("after")}
	if !campaign.EnrollmentState(f.State).Valid() {
		f.State = ""
	}
	return f
}

// Query is the filter as a query string (without after), for links.
func (f prospectFilter) Query() string {
	v := url.Values{}
	for k, s := range map[string]string{"state": f.State, "step": f.Step, "q": f.Search} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

func (f prospectFilter) store() campaign.ProspectFilter {
	return campaign.ProspectFilter{State: campaign.EnrollmentState(f.State), StepID: f.Step, Search: f.Search, After: f.After}
}

// prospectRow is one row of the list as the page shows it.
type prospectRow struct {
	ID, Name, URL, State, Step string
	// Next is the next action time in the sender's zone; empty if none.
	Next, NextISO string
	// Note is the hold in words, else the last error or ended reason.
	Note                         string
	CanPause, CanResume, CanSkip bool
	CanRemove                    bool
}

// prospectList is the list section's data.
type prospectList struct {
	Filter prospectFilter
	Rows   []prospectRow
	// Next is the after= cursor of the next page; empty on the last.
	Next string
	// States and Steps are the filter's choices.
	States []string
	Steps  []string
	// Return is this page's URL, where row actions come back to.
	Return string
}

var enrollmentStates = []string{"pending", "active", "soft_paused", "completed", "replied", "ended", "failed"}

func newProspectRow(p campaign.ListedProspect, zones map[string]*time.Location, now time.Time) prospectRow {
	row := prospectRow{ID: p.ID, Name: p.Name(), URL: p.LinkedInURL, State: string(p.State), Step: p.StepID}
	if row.URL == "" {
		row.URL = p.ProviderID
	}
	if t := p.NextActionAt; t != nil && p.State.Live() {
		loc := zones[p.AccountID]
		if loc == nil {
			loc = time.UTC
		}
		row.Next, row.NextISO = policy.When(*t, loc, now)+" ("+loc.String()+")", t.UTC().Format(time.RFC3339)
	}
	switch {
	case p.ParkedBy != "":
		row.Note = holdInWords(p.ParkedBy)
	case p.UnknownSendID != "":
		row.Note = "Send " + p.UnknownSendID + " waits to be settled"
	case p.State == campaign.EnrollmentEnded:
		row.Note = "Ended: " + strings.ReplaceAll(p.EndedReason, "_", " ")
	case p.LastError != "":
		row.Note = p.LastError
	}
	started := p.State == campaign.EnrollmentActive || p.State == campaign.EnrollmentSoftPaused
	row.CanPause = started && p.ParkedBy != campaign.HeldByPerson
	row.CanResume = p.ParkedBy == campaign.HeldByPerson
	row.CanSkip = started && p.UnknownSendID == ""
	row.CanRemove = p.State.Live()
	return row
}

// senderZones maps each sender to its time zone.
func senderZones(accs []account.Account) map[string]*time.Location {
	out := make(map[string]*time.Location, len(accs))
	for _, a := range accs {
		_, out[a.ID] = policy.AccountWindow(a)
	}
	return out
}

// prospects reads one page of the campaign's prospect list for r's filter.
func (s *Server) prospects(r *http.Request, c campaign.Campaign, senders []account.Account, now time.Time) (prospectList, error) {
	f := readProspectFilter(r.URL.Query())
	l := prospectList{Filter: f, States: enrollmentStates, Return: r.URL.RequestURI()}
	for _, st := range c.Steps {
		l.Steps = append(l.Steps, st.ID)
	}
	sf := f.store()
	sf.Limit = PageSize + 1
	ps, err := s.opts.Campaigns.ListProspects(r.Context(), s.opts.DB.SQL, sessionFrom(r).WorkspaceID, c.ID, sf)
	if err != nil {
		return l, err
	}
	if len(ps) > PageSize {
		ps = ps[:PageSize]
		l.Next = ps[len(ps)-1].ID
	}
	zones := senderZones(senders)
	for _, p := range ps {
		l.Rows = append(l.Rows, newProspectRow(p, zones, now))
	}
	return l, nil
}
