package web

// The campaign editor form, shared by the new and edit pages.

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
)

// MaxSenderChoices bounds the sender checkboxes of the campaign form.
const MaxSenderChoices = 1000

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
