package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/diagnose"
	"github.com/keel-outreach/keel/internal/send"
)

// maxUploadBytes bounds a prospect CSV upload.
const maxUploadBytes = campaign.MaxImportBytes

// MaxSenderChoices bounds the sender checkboxes of the campaign form.
const MaxSenderChoices = 1000

// reasonChips are the short labels of pause reasons; the explanation
// sentence comes from the diagnosis.
var reasonChips = map[campaign.PausedReason]string{
	campaign.ReasonManual:              "Paused by a person",
	campaign.ReasonAccountDisconnected: "Sender disconnected",
	campaign.ReasonAccountRestricted:   "Sender restricted",
	campaign.ReasonAccountError:        "Sender error",
	campaign.ReasonNeedsVerification:   "Sender needs verification",
	campaign.ReasonHighFailureRate:     "High failure rate",
	campaign.ReasonTemplateError:       "Template error",
}

type campaignListRow struct {
	Campaign campaign.Campaign
	Chip     string
}

type campaignsData struct {
	Rows []campaignListRow
	Next string
	Prev bool
}

func (s *Server) campaignsPage(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	after := r.URL.Query().Get("after")
	cs, err := s.opts.Campaigns.List(r.Context(), s.opts.DB.SQL, campaign.ListOptions{WorkspaceID: sess.WorkspaceID, After: after, Limit: PageSize + 1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := campaignsData{Prev: after != ""}
	if len(cs) > PageSize {
		cs = cs[:PageSize]
		data.Next = cs[len(cs)-1].ID
	}
	for _, c := range cs {
		data.Rows = append(data.Rows, campaignListRow{Campaign: c, Chip: reasonChips[c.PausedReason]})
	}
	s.render(w, r, http.StatusOK, "campaigns", page{Title: "Campaigns", Nav: "campaigns", Data: data})
}

// campaignForm is the editor's values, as typed.
type campaignForm struct {
	ID          string
	Name        string
	AccountIDs  []string
	Steps       string
	Caps        map[string]string
	StopOnReply bool
	LateAccept  string
}

type campaignFormData struct {
	Form     campaignForm
	Senders  []account.Account
	Errors   map[string][]string
	Other    []campaign.FieldError
	CapNames []capField
}

var campaignCapFields = []capField{
	{"invite", "Invitations per sender per day"}, {"message", "Messages per sender per day"},
	{"inmail", "InMails per sender per day"}, {"view_profile", "Profile views per sender per day"},
}

const exampleSteps = `[
  {"id": "invite", "type": "invite", "note": "Hi {{first_name}}, glad to connect."},
  {"id": "accepted", "type": "if_accepted", "within": "336h", "then": "hello", "else": "end"},
  {"id": "hello", "type": "message", "text": "Thanks for connecting, {{first_name}}!"}
]`

func formFromCampaign(c campaign.Campaign) campaignForm {
	steps, _ := json.MarshalIndent(c.Steps, "", "  ")
	return campaignForm{ID: c.ID, Name: c.Name, AccountIDs: c.AccountIDs, Steps: string(steps), StopOnReply: c.StopOnReply,
		LateAccept: string(c.LateAcceptPolicy), Caps: map[string]string{
			"invite": strconv.Itoa(c.DailyCaps.Invite), "message": strconv.Itoa(c.DailyCaps.Message),
			"inmail": strconv.Itoa(c.DailyCaps.InMail), "view_profile": strconv.Itoa(c.DailyCaps.ViewProfile)}}
}

func (s *Server) renderCampaignForm(w http.ResponseWriter, r *http.Request, status int, f campaignForm, errs []campaign.FieldError) {
	sess := sessionFrom(r)
	senders, err := s.opts.Accounts.List(r.Context(), s.opts.DB.SQL, account.ListOptions{WorkspaceID: sess.WorkspaceID, Limit: MaxSenderChoices})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := campaignFormData{Form: f, Senders: senders, Errors: map[string][]string{}, CapNames: campaignCapFields}
	for _, fe := range errs {
		key := fe.Field
		if i := strings.IndexAny(key, ".["); i >= 0 {
			key = key[:i]
		}
		switch key {
		case "name", "account_ids", "steps", "daily_caps", "late_accept_policy":
			msg := fe.Message
			if fe.Field != key {
				msg = fe.Field + ": " + msg
			}
			d.Errors[key] = append(d.Errors[key], msg)
		default:
			d.Other = append(d.Other, fe)
		}
	}
	title := "New campaign"
	if f.ID != "" {
		title = "Edit " + f.Name
	}
	s.render(w, r, status, "campaign_form", page{Title: title, Nav: "campaigns", Data: d})
}

func (s *Server) newCampaignPage(w http.ResponseWriter, r *http.Request) {
	f := formFromCampaign(campaign.Campaign{DailyCaps: campaign.DefaultDailyCaps, StopOnReply: true, LateAcceptPolicy: campaign.LateAcceptFollowUp})
	f.Steps = exampleSteps
	s.renderCampaignForm(w, r, http.StatusOK, f, nil)
}

func (s *Server) editCampaignPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	s.renderCampaignForm(w, r, http.StatusOK, formFromCampaign(c), nil)
}

// readCampaignForm turns the posted editor into an Input, with the field
// errors the form itself can find (bad JSON, non-numbers).
func readCampaignForm(r *http.Request) (campaignForm, campaign.Input, []campaign.FieldError) {
	f := campaignForm{Name: r.PostFormValue("name"), AccountIDs: r.PostForm["account_ids"], Steps: r.PostFormValue("steps"),
		StopOnReply: r.PostFormValue("stop_on_reply") == "on", LateAccept: r.PostFormValue("late_accept_policy"), Caps: map[string]string{}}
	if f.AccountIDs == nil {
		f.AccountIDs = []string{}
	}
	var errs []campaign.FieldError
	in := campaign.Input{Name: &f.Name, AccountIDs: f.AccountIDs, StopOnReply: &f.StopOnReply}
	lap := campaign.LateAcceptPolicy(f.LateAccept)
	in.LateAcceptPolicy = &lap
	var steps []campaign.Step
	dec := json.NewDecoder(strings.NewReader(f.Steps))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&steps); err != nil {
		errs = append(errs, campaign.FieldError{Field: "steps", Message: "not a JSON array of steps: " + err.Error()})
	} else {
		if steps == nil {
			steps = []campaign.Step{}
		}
		in.Steps = steps
	}
	caps := campaign.CapsInput{}
	targets := map[string]**int{"invite": &caps.Invite, "message": &caps.Message, "inmail": &caps.InMail, "view_profile": &caps.ViewProfile}
	for _, c := range campaignCapFields {
		v := strings.TrimSpace(r.PostFormValue("cap_" + c.Name))
		f.Caps[c.Name] = v
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, campaign.FieldError{Field: "daily_caps." + c.Name, Message: "enter a whole number"})
			continue
		}
		*targets[c.Name] = &n
	}
	in.DailyCaps = &caps
	return f, in, errs
}

func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	f, in, errs := readCampaignForm(r)
	if len(errs) > 0 {
		s.renderCampaignForm(w, r, http.StatusUnprocessableEntity, f, errs)
		return
	}
	c, err := s.opts.Campaigns.Create(r.Context(), sess.WorkspaceID, in)
	var verr *campaign.ValidationError
	if errors.As(err, &verr) {
		s.renderCampaignForm(w, r, http.StatusUnprocessableEntity, f, verr.Errors)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "/campaigns/"+c.ID, "Campaign created as a draft. Import prospects, then start it.")
}

func (s *Server) updateCampaign(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	f, in, errs := readCampaignForm(r)
	f.ID = r.PathValue("id")
	if len(errs) > 0 {
		s.renderCampaignForm(w, r, http.StatusUnprocessableEntity, f, errs)
		return
	}
	_, err := s.opts.Campaigns.Update(r.Context(), sess.WorkspaceID, f.ID, in)
	var verr *campaign.ValidationError
	var serr *campaign.StateError
	switch {
	case errors.As(err, &verr):
		s.renderCampaignForm(w, r, http.StatusUnprocessableEntity, f, verr.Errors)
		return
	case errors.As(err, &serr):
		s.renderCampaignForm(w, r, http.StatusConflict, f, []campaign.FieldError{{Field: "campaign", Message: serr.Message}})
		return
	case errors.Is(err, campaign.ErrNotFound):
		http.NotFound(w, r)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "/campaigns/"+f.ID, "Campaign saved.")
}

func (s *Server) loadCampaign(w http.ResponseWriter, r *http.Request) (campaign.Campaign, bool) {
	sess := sessionFrom(r)
	c, err := s.opts.Campaigns.Get(r.Context(), s.opts.DB.SQL, sess.WorkspaceID, r.PathValue("id"))
	if errors.Is(err, campaign.ErrNotFound) {
		http.NotFound(w, r)
		return c, false
	}
	if err != nil {
		s.fail(w, r, err)
		return c, false
	}
	return c, true
}

type funnelRow struct {
	StepID string
	Type   string
	Counts map[string]int
	Total  int
}

type campaignData struct {
	Campaign    campaign.Campaign
	Chip        string
	Explanation string
	Senders     []account.Account
	Funnel      []funnelRow
	States      []string
	Chart       chart
	Report      diagnose.Report
	Import      *campaign.ImportResult
	ImportError string
	CanStart    bool
	CanPause    bool
	CanResume   bool
}

var ledgerStates = []string{string(send.StateIntent), string(send.StateDispatched), string(send.StateConfirmed),
	string(send.StateUnknown), string(send.StateFailed), string(send.StateCancelled)}

func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request) {
	s.showCampaign(w, r, http.StatusOK, nil, "")
}

func (s *Server) showCampaign(w http.ResponseWriter, r *http.Request, status int, imp *campaign.ImportResult, impErr string) {
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	now := s.opts.Clock.Now()
	d := campaignData{Campaign: c, Chip: reasonChips[c.PausedReason], States: ledgerStates, Import: imp, ImportError: impErr,
		CanStart: c.Status == campaign.StatusDraft, CanPause: c.Status == campaign.StatusRunning, CanResume: c.Status == campaign.StatusPaused}
	var err error
	if d.Report, err = diagnose.CampaignReport(ctx, diagnose.Deps{DB: s.opts.DB, Accounts: s.opts.Accounts, Campaigns: s.opts.Campaigns},
		c, now); err != nil {
		s.fail(w, r, err)
		return
	}
	if c.Status == campaign.StatusPaused {
		for _, f := range d.Report.Findings {
			if f.Code == "campaign_paused_"+string(c.PausedReason) {
				d.Explanation = f.Message
			}
		}
	}
	if d.Funnel, err = s.funnel(ctx, c); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Chart, err = s.sendsChart(ctx, c, now); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Senders = d.Report.Senders
	s.render(w, r, status, "campaign", page{Title: c.Name, Nav: "campaigns", Data: d})
}

// funnel counts the campaign's ledger rows by step and state, in step
// order.
func (s *Server) funnel(ctx context.Context, c campaign.Campaign) ([]funnelRow, error) {
	rows, err := s.opts.DB.SQL.QueryContext(ctx, `SELECT step_id, state, COUNT(*) FROM sends WHERE campaign_id = $1 GROUP BY step_id, state`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("counting the funnel of campaign %s: %w", c.ID, err)
	}
	defer rows.Close()
	counts := map[string]map[string]int{}
	for rows.Next() {
		var step, state string
		var n int
		if err := rows.Scan(&step, &state, &n); err != nil {
			return nil, fmt.Errorf("counting the funnel of campaign %s: %w", c.ID, err)
		}
		if counts[step] == nil {
			counts[step] = map[string]int{}
		}
		counts[step][state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting the funnel of campaign %s: %w", c.ID, err)
	}
	var out []funnelRow
	seen := map[string]bool{}
	add := func(id, typ string) {
		fr := funnelRow{StepID: id, Type: typ, Counts: counts[id]}
		if fr.Counts == nil {
			fr.Counts = map[string]int{}
		}
		for _, n := range fr.Counts {
			fr.Total += n
		}
		out = append(out, fr)
		seen[id] = true
	}
	for _, st := range c.Steps {
		switch st.Type {
		case campaign.StepInvite, campaign.StepMessage, campaign.StepInMail, campaign.StepViewProfile:
			add(st.ID, string(st.Type))
		}
	}
	// Steps since removed from the campaign still have ledger rows.
	var gone []string
	for id := range counts {
		if !seen[id] {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	for _, id := range gone {
		add(id, "removed step")
	}
	return out, nil
}

// ChartDays is how many days the sends chart covers.
const ChartDays = 14

type bar struct {
	X, Y, W, H int
	Label      string
	Count      int
	Title      string
}

// chart is a server-rendered SVG bar chart of sends per day with the
// campaign's daily capacity as a line.
type chart struct {
	Width, Height int
	Bars          []bar
	CapY          int
	Cap           int
	Max           int
	Total         int
	BaseY         int
}

// sendsChart counts the campaign's counted ledger rows per UTC day for the
// last ChartDays days, in one query, and lays out the SVG.
func (s *Server) sendsChart(ctx context.Context, c campaign.Campaign, now time.Time) (chart, error) {
	first := send.UTCDayStart(now).Add(-time.Duration(ChartDays-1) * 24 * time.Hour)
	args := []any{c.ID}
	cols := make([]string, ChartDays)
	for i := 0; i < ChartDays; i++ {
		args = append(args, first.Add(time.Duration(i)*24*time.Hour), first.Add(time.Duration(i+1)*24*time.Hour))
		cols[i] = fmt.Sprintf("COALESCE(SUM(CASE WHEN claimed_at >= $%d AND claimed_at < $%d THEN 1 ELSE 0 END), 0)", len(args)-1, len(args))
	}
	args = append(args, first)
	row := s.opts.DB.SQL.QueryRowContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM sends WHERE campaign_id = $1
		AND state IN `+send.CountedStates+` AND claimed_at >= $`+strconv.Itoa(len(args)), args...)
	counts := make([]int, ChartDays)
	dest := make([]any, ChartDays)
	for i := range counts {
		dest[i] = &counts[i]
	}
	if err := row.Scan(dest...); err != nil {
		return chart{}, fmt.Errorf("counting sends per day of campaign %s: %w", c.ID, err)
	}
	// Capacity: the caps of the actions the steps use, per sender.
	used := map[campaign.StepType]bool{}
	for _, st := range c.Steps {
		used[st.Type] = true
	}
	per := 0
	if used[campaign.StepInvite] {
		per += c.DailyCaps.Invite
	}
	if used[campaign.StepMessage] {
		per += c.DailyCaps.Message
	}
	if used[campaign.StepInMail] {
		per += c.DailyCaps.InMail
	}
	if used[campaign.StepViewProfile] {
		per += c.DailyCaps.ViewProfile
	}
	ch := chart{Width: 560, Height: 200, Cap: per * len(c.AccountIDs), BaseY: 170}
	ch.Max = max(ch.Cap, 1)
	for _, n := range counts {
		ch.Max = max(ch.Max, n)
		ch.Total += n
	}
	plot := 150
	slot := (ch.Width - 40) / ChartDays
	for i, n := range counts {
		h := n * plot / ch.Max
		day := first.Add(time.Duration(i) * 24 * time.Hour)
		ch.Bars = append(ch.Bars, bar{X: 40 + i*slot + 4, Y: ch.BaseY - h, W: slot - 8, H: h, Count: n,
			Label: day.Format("2"), Title: fmt.Sprintf("%s: %d sends", day.Format("Mon Jan 2"), n)})
	}
	ch.CapY = ch.BaseY - ch.Cap*plot/ch.Max
	return ch, nil
}

func (s *Server) campaignAction(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	id := r.PathValue("id")
	var err error
	var done string
	switch r.PathValue("op") {
	case "start":
		_, err = s.opts.Campaigns.Start(r.Context(), sess.WorkspaceID, id)
		done = "Campaign started."
	case "pause":
		_, err = s.opts.Campaigns.Pause(r.Context(), sess.WorkspaceID, id)
		done = "Campaign paused."
	case "resume":
		_, err = s.opts.Campaigns.Resume(r.Context(), sess.WorkspaceID, id)
		done = "Campaign resumed."
	default:
		http.NotFound(w, r)
		return
	}
	var verr *campaign.ValidationError
	var serr *campaign.StateError
	switch {
	case errors.Is(err, campaign.ErrNotFound):
		http.NotFound(w, r)
	case errors.As(err, &verr):
		msgs := make([]string, len(verr.Errors))
		for i, fe := range verr.Errors {
			msgs[i] = fe.Field + ": " + fe.Message
		}
		s.flashRedirect(w, r, "/campaigns/"+id, "Not changed: "+strings.Join(msgs, "; "))
	case errors.As(err, &serr):
		s.flashRedirect(w, r, "/campaigns/"+id, "Not changed: "+serr.Message)
	case err != nil:
		s.fail(w, r, err)
	default:
		s.flashRedirect(w, r, "/campaigns/"+id, done)
	}
}

func (s *Server) importProspects(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	file, _, err := r.FormFile("csv")
	if err != nil {
		s.showCampaign(w, r, http.StatusUnprocessableEntity, nil, "Choose a CSV file to upload.")
		return
	}
	defer file.Close()
	rows, err := campaign.ParseCSV(file)
	if err != nil {
		s.showCampaign(w, r, http.StatusUnprocessableEntity, nil, err.Error())
		return
	}
	res, err := s.opts.Campaigns.Import(r.Context(), r.PathValue("id"), sess.WorkspaceID, rows)
	var serr *campaign.StateError
	switch {
	case errors.Is(err, campaign.ErrNotFound):
		http.NotFound(w, r)
		return
	case errors.As(err, &serr):
		s.showCampaign(w, r, http.StatusConflict, nil, serr.Message)
		return
	case errors.Is(err, campaign.ErrTooLarge):
		s.showCampaign(w, r, http.StatusRequestEntityTooLarge, nil, err.Error())
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	s.showCampaign(w, r, http.StatusOK, &res, "")
}
