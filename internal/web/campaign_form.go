package web

// The campaign editor form, shared by the new and edit pages: senders,
// caps, and the sequence builder — one fieldset per step, edited without
// typing JSON (docs/campaigns.md#the-sequence-builder).

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

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
	Steps       []stepForm
	Caps        map[string]string
	StopOnReply bool
	LateAccept  string
	// JSON is the steps as the API writes them, for the advanced editor;
	// JSONMode is set when that editor was used (it then wins).
	JSON     string
	JSONMode bool
	// Preview is the chosen preview prospect's id.
	Preview string
}

// stepForm is one step of the builder, as typed.
type stepForm struct {
	ID, Type                string
	Note, Subject, Text     string
	Days, Hours, Then, Else string
	Index                   int
	Errors                  map[string][]string
	PreviewLines            []previewLine
	// Warnings are what the step's texts will do that the author may not
	// mean (a fallback no prospect can need).
	Warnings                  []string
	NoteMax, TextMax          int
	SubjectMax                int
	ThenOptions, ElseOptions  []targetOption
	CanMoveUp, CanMoveDown    bool
	IsCondition, HasTemplates bool
}

// Num is the step's position as people count (1-based).
func (s stepForm) Num() int { return s.Index + 1 }

// Label is the step type as the builder names it.
func (s stepForm) Label() string { return campaign.StepTypeLabel(campaign.StepType(s.Type)) }

// NoteLen is the note's length in characters, as the steps' validation
// counts it (builder.js counts the same as you type).
func (s stepForm) NoteLen() int { return utf8.RuneCountInString(s.Note) }

// TextLen is the message or InMail text's length in characters.
func (s stepForm) TextLen() int { return utf8.RuneCountInString(s.Text) }

// SubjectLen is the InMail subject's length in characters.
func (s stepForm) SubjectLen() int { return utf8.RuneCountInString(s.Subject) }

// Err lists the errors of one field of the step ("" for the step itself).
func (s stepForm) Err(field string) []string { return s.Errors[field] }

// targetOption is one choice of a condition's then/else select.
type targetOption struct {
	Value, Label string
	Selected     bool
}

// nextTarget is the builder's "the step after this one", resolved to that
// step's id (or end) when the form is read.
const nextTarget = "next"

type campaignFormData struct {
	Form      campaignForm
	Senders   []account.Account
	Errors    map[string][]string
	Summary   []string
	JSONErrs  []string
	CapNames  []capField
	StepTypes []stepTypeChoice
	Variables []string
	Prospects []previewProspect
	Status    campaign.Status
	Notice    string
	Changed   bool
}

type stepTypeChoice struct{ Type, Label string }

var campaignCapFields = []capField{
	{"invite", "Invitations per sender per day"}, {"message", "Messages per sender per day"},
	{"inmail", "InMails per sender per day"}, {"view_profile", "Profile views per sender per day"},
}

// exampleSteps is what a new campaign starts with.
var exampleSteps = []campaign.Step{
	{ID: "invite", Type: campaign.StepInvite, Note: "Hi {{first_name|there}}, glad to connect."},
	{ID: "accepted", Type: campaign.StepIfAccepted, Within: "14d", Then: "hello", Else: campaign.End},
	{ID: "hello", Type: campaign.StepMessage, Text: "Thanks for connecting, {{first_name|there}}!"},
}

func formFromCampaign(c campaign.Campaign) campaignForm {
	return campaignForm{ID: c.ID, Name: c.Name, AccountIDs: c.AccountIDs, Steps: stepForms(c.Steps), StopOnReply: c.StopOnReply,
		LateAccept: string(c.LateAcceptPolicy), JSON: stepsJSON(c.Steps), Caps: map[string]string{
			"invite": strconv.Itoa(c.DailyCaps.Invite), "message": strconv.Itoa(c.DailyCaps.Message),
			"inmail": strconv.Itoa(c.DailyCaps.InMail), "view_profile": strconv.Itoa(c.DailyCaps.ViewProfile)}}
}

func stepsJSON(steps []campaign.Step) string {
	if steps == nil {
		steps = []campaign.Step{}
	}
	b, _ := json.MarshalIndent(steps, "", "  ")
	return string(b)
}

// stepForms turns stored steps into builder rows.
func stepForms(steps []campaign.Step) []stepForm {
	out := make([]stepForm, len(steps))
	for i, st := range steps {
		sf := stepForm{ID: st.ID, Type: string(st.Type), Note: st.Note, Subject: st.Subject, Text: st.Text, Then: st.Then, Else: st.Else}
		dur := st.Duration
		if st.Type.IsCondition() {
			dur = st.Within
		}
		if d, err := campaign.ParseStepDuration(dur); err == nil {
			days, hours := campaign.SplitDays(d)
			sf.Days, sf.Hours = strconv.Itoa(days), strconv.Itoa(hours)
		} else if dur != "" {
			sf.Days = dur
		}
		out[i] = sf
	}
	return out
}

// toSteps turns builder rows into steps, with the errors of fields that
// are not even numbers.
func toSteps(rows []stepForm) ([]campaign.Step, []campaign.FieldError) {
	steps := make([]campaign.Step, len(rows))
	var errs []campaign.FieldError
	for i, sf := range rows {
		st := campaign.Step{ID: sf.ID, Type: campaign.StepType(sf.Type)}
		switch st.Type {
		case campaign.StepInvite:
			st.Note = sf.Note
		case campaign.StepMessage:
			st.Text = sf.Text
		case campaign.StepInMail:
			st.Subject, st.Text = sf.Subject, sf.Text
		case campaign.StepWait, campaign.StepIfAccepted, campaign.StepIfReplied:
			field := "duration"
			if st.Type.IsCondition() {
				field = "within"
			}
			days, derr := wholeNumber(sf.Days)
			hours, herr := wholeNumber(sf.Hours)
			if derr != nil || herr != nil {
				errs = append(errs, campaign.FieldError{Field: fmt.Sprintf("steps[%d].%s", i, field), Message: "enter whole numbers of days and hours"})
				break
			}
			if st.Type.IsCondition() {
				st.Within = campaign.DaysHours(days, hours)
				st.Then, st.Else = resolveTarget(rows, i, sf.Then), resolveTarget(rows, i, sf.Else)
			} else {
				st.Duration = campaign.DaysHours(days, hours)
			}
		}
		steps[i] = st
	}
	return steps, errs
}

func wholeNumber(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err == nil && n < 0 {
		err = fmt.Errorf("negative")
	}
	return n, err
}

func resolveTarget(rows []stepForm, i int, v string) string {
	if v != nextTarget {
		return v
	}
	if i+1 < len(rows) {
		return rows[i+1].ID
	}
	return campaign.End
}

// readCampaignForm reads the posted editor: the form's values, the Input
// they make, the errors the form itself can find, and the builder
// operation asked for ("" or "save" saves).
func readCampaignForm(r *http.Request) (campaignForm, campaign.Input, []campaign.FieldError, string) {
	f := campaignForm{Name: r.PostFormValue("name"), AccountIDs: r.PostForm["account_ids"],
		StopOnReply: r.PostFormValue("stop_on_reply") == "on", LateAccept: r.PostFormValue("late_accept_policy"), Caps: map[string]string{},
		Preview: r.PostFormValue("preview")}
	if f.AccountIDs == nil {
		f.AccountIDs = []string{}
	}
	var errs []campaign.FieldError
	in := campaign.Input{Name: &f.Name, AccountIDs: f.AccountIDs, StopOnReply: &f.StopOnReply}
	lap := campaign.LateAcceptPolicy(f.LateAccept)
	in.LateAcceptPolicy = &lap

	for i := 0; i <= campaign.MaxSteps; i++ {
		p := fmt.Sprintf("s%d_", i)
		if _, ok := r.PostForm[p+"type"]; !ok {
			break
		}
		f.Steps = append(f.Steps, stepForm{ID: r.PostFormValue(p + "id"), Type: r.PostFormValue(p + "type"),
			Note: r.PostFormValue(p + "note"), Subject: r.PostFormValue(p + "subject"), Text: r.PostFormValue(p + "text"),
			Days: r.PostFormValue(p + "days"), Hours: r.PostFormValue(p + "hours"),
			Then: r.PostFormValue(p + "then"), Else: r.PostFormValue(p + "else")})
	}
	raw, typed := r.PostForm["steps"]
	if typed && !sameText(raw[0], r.PostFormValue("steps_orig")) {
		// The advanced editor was used: its JSON is the steps.
		f.JSONMode, f.JSON = true, raw[0]
		var steps []campaign.Step
		dec := json.NewDecoder(strings.NewReader(raw[0]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&steps); err != nil {
			errs = append(errs, campaign.FieldError{Field: "steps", Message: "not a JSON array of steps: " + err.Error()})
		} else {
			if steps == nil {
				steps = []campaign.Step{}
			}
			in.Steps = steps
			f.Steps = stepForms(steps)
		}
	} else {
		steps, serrs := toSteps(f.Steps)
		errs = append(errs, serrs...)
		if steps == nil {
			steps = []campaign.Step{}
		}
		in.Steps = steps
		f.JSON = stepsJSON(steps)
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
	return f, in, errs, r.PostFormValue("op")
}

// sameText compares two texts ignoring how whitespace and line breaks
// were sent (browsers send a textarea's line breaks as CRLF).
func sameText(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

// fieldLabels names the campaign's own fields in the error summary.
var fieldLabels = map[string]string{
	"name": "Name", "account_ids": "Senders", "steps": "Steps", "daily_caps": "Daily shares",
	"late_accept_policy": "Late accepts", "prospects": "Prospects", "campaign": "Campaign",
}

func (s *Server) renderCampaignForm(w http.ResponseWriter, r *http.Request, status int, f campaignForm, errs []campaign.FieldError) {
	sess := sessionFrom(r)
	ctx := r.Context()
	senders, err := s.opts.Accounts.List(ctx, s.opts.DB.SQL, account.ListOptions{WorkspaceID: sess.WorkspaceID, Limit: MaxSenderChoices})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := campaignFormData{Form: f, Senders: senders, Errors: map[string][]string{}, CapNames: campaignCapFields, Variables: campaign.BuiltinVariables}
	for _, t := range campaign.StepTypes {
		d.StepTypes = append(d.StepTypes, stepTypeChoice{Type: string(t), Label: campaign.StepTypeLabel(t)})
	}
	if f.ID != "" {
		c, err := s.opts.Campaigns.Get(ctx, s.opts.DB.SQL, sess.WorkspaceID, f.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Status = c.Status
		if d.Variables, err = s.opts.Campaigns.CampaignVariables(ctx, s.opts.DB.SQL, f.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if d.Status == campaign.StatusRunning {
		d.Notice = "This campaign is running. You can change its name, daily shares, add senders and edit the texts of steps no prospect has reached yet; " +
			"to change anything else (steps, timing, branches, removing a sender), pause it first, edit, then resume."
	}
	steps, _ := toSteps(f.Steps)
	if f.JSONMode {
		steps = nil
		_ = json.Unmarshal([]byte(f.JSON), &steps)
	}
	for _, fe := range errs {
		de := campaign.DescribeFieldError(steps, fe)
		if de.Step >= 0 && de.Step < len(f.Steps) {
			sf := &f.Steps[de.Step]
			if sf.Errors == nil {
				sf.Errors = map[string][]string{}
			}
			sf.Errors[de.Field] = append(sf.Errors[de.Field], de.Message)
			d.Summary = append(d.Summary, de.Sentence)
			d.JSONErrs = append(d.JSONErrs, fe.Field+": "+fe.Message)
			continue
		}
		key := fe.Field
		if i := strings.IndexAny(key, ".["); i >= 0 {
			key = key[:i]
		}
		msg := fe.Message
		if fe.Field != key {
			msg = fe.Field + ": " + msg
		}
		d.Errors[key] = append(d.Errors[key], msg)
		if key == "steps" {
			d.JSONErrs = append(d.JSONErrs, msg)
		}
		label := fieldLabels[key]
		if label == "" {
			label = key
		}
		d.Summary = append(d.Summary, label+": "+msg)
	}
	prospects, err := s.previewProspects(r, f.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Prospects = prospects
	f.Preview = choosePreview(prospects, f.Preview)
	decorateSteps(f.Steps, steps, prospects, f.Preview)
	warnFallbackOnly(f.Steps, steps, d.Variables)
	d.Form = f
	title := "New campaign"
	if f.ID != "" {
		title = "Edit " + f.Name
	}
	s.render(w, r, status, "campaign_form", page{Title: title, Nav: "campaigns", Data: d})
}

// decorateSteps fills what the template shows beside each step: its
// position, move buttons, target choices and the preview.
func decorateSteps(rows []stepForm, steps []campaign.Step, prospects []previewProspect, chosen string) {
	var who *previewProspect
	for i := range prospects {
		if prospects[i].ID == chosen {
			who = &prospects[i]
		}
	}
	for i := range rows {
		sf := &rows[i]
		sf.Index, sf.NoteMax, sf.TextMax, sf.SubjectMax = i, campaign.MaxInviteNote, campaign.MaxTextLen, campaign.MaxSubjectLen
		sf.CanMoveUp, sf.CanMoveDown = i > 0, i+1 < len(rows)
		t := campaign.StepType(sf.Type)
		sf.IsCondition = t.IsCondition()
		sf.HasTemplates = t == campaign.StepInvite || t == campaign.StepMessage || t == campaign.StepInMail
		if sf.IsCondition {
			sf.ThenOptions, sf.ElseOptions = targetOptions(rows, i, sf.Then), targetOptions(rows, i, sf.Else)
		}
		if who != nil && sf.HasTemplates && i < len(steps) {
			sf.PreviewLines = previewStep(steps[i], who.Prospect)
		}
	}
}

func targetOptions(rows []stepForm, i int, current string) []targetOption {
	opts := []targetOption{{Value: nextTarget, Label: "The next step", Selected: current == nextTarget}}
	found := current == nextTarget
	for j, o := range rows {
		if j == i {
			continue
		}
		sel := o.ID == current
		found = found || sel
		opts = append(opts, targetOption{Value: o.ID, Label: fmt.Sprintf("Step %d (%s)", j+1, campaign.StepTypeLabel(campaign.StepType(o.Type))), Selected: sel})
	}
	opts = append(opts, targetOption{Value: campaign.End, Label: "End the sequence", Selected: current == campaign.End})
	found = found || current == campaign.End
	if !found {
		label := "Choose…"
		if current != "" {
			label = "Step " + current + " (no longer in the sequence)"
		}
		opts = append([]targetOption{{Value: current, Label: label, Selected: true}}, opts...)
	}
	return opts
}

// warnFallbackOnly puts a warning beside each step whose template gives a
// fallback to a variable that is neither built-in nor a column of the
// campaign's imported prospects: every prospect would get the fallback,
// which Start refuses once prospects are imported
// (docs/campaigns.md#variables-and-fallbacks).
func warnFallbackOnly(rows []stepForm, steps []campaign.Step, variables []string) {
	known := make(map[string]bool, len(variables))
	for _, v := range variables {
		known[v] = true
	}
	for _, fo := range campaign.FallbackOnlyVariables(steps, func(name string) bool { return known[name] }) {
		if fo.Step < len(rows) {
			rows[fo.Step].Warnings = append(rows[fo.Step].Warnings, fo.Warning())
		}
	}
}
