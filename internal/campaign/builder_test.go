package campaign

import (
	"strings"
	"testing"
	"time"
)

func TestParseStepDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"2 days": 48 * time.Hour, "2d": 48 * time.Hour, "48h": 48 * time.Hour, "1 day": 24 * time.Hour,
		"336h": 14 * 24 * time.Hour, "1d12h": 36 * time.Hour, "1 day 12 hours": 36 * time.Hour, "90m": 90 * time.Minute,
		"7 Days": 7 * 24 * time.Hour, "2 days, 3 hours": 51 * time.Hour, "1h30m": 90 * time.Minute,
	} {
		got, err := ParseStepDuration(in)
		if err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2 weeks", "days", "2 dayz", "-1d", "1.5d"} {
		if d, err := ParseStepDuration(in); err == nil {
			t.Errorf("%q parsed as %v", in, d)
		}
	}
	if got := FormatDays(36 * time.Hour); got != "1 day 12 hours" {
		t.Errorf("FormatDays: %q", got)
	}
	if d, h := SplitDays(50 * time.Hour); d != 2 || h != 2 {
		t.Errorf("SplitDays: %d %d", d, h)
	}
	if got := DaysHours(0, 5); got != "5h" {
		t.Errorf("DaysHours: %q", got)
	}
	for _, c := range [][2]int{{7, 0}, {1, 12}, {0, 6}} {
		d, err := ParseStepDuration(DaysHours(c[0], c[1]))
		if err != nil || d != time.Duration(c[0]*24+c[1])*time.Hour {
			t.Errorf("DaysHours(%v) does not parse back: %v %v", c, d, err)
		}
	}
}

func TestHoldReasonAndVariables(t *testing.T) {
	t.Parallel()
	st := Step{ID: "invite", Type: StepInvite, Note: "Hi {{first_name}}, {{company|your team}} and {{role}}"}
	if got := StepVariables(st); strings.Join(got, ",") != "first_name,company,role" {
		t.Fatalf("StepVariables: %v", got)
	}
	if !NeedsValues(st) || NeedsValues(Step{ID: "m", Type: StepMessage, Text: "Hi {{first_name|there}}"}) || NeedsValues(Step{ID: "w", Type: StepWait, Duration: "1d"}) {
		t.Fatal("NeedsValues")
	}
	full := Prospect{FirstName: "Ada", Custom: map[string]string{"role": "CTO"}}
	if r := HoldReason(st, full); r != "" {
		t.Fatalf("a full prospect is held: %s", r)
	}
	r := HoldReason(st, Prospect{Custom: map[string]string{"role": "CTO"}})
	if !strings.HasPrefix(r, "first_name is empty and the template has no fallback") || !strings.Contains(r, "step invite") {
		t.Fatalf("hold reason: %q", r)
	}
	if r := HoldReason(st, Prospect{FirstName: "Ada"}); !strings.HasPrefix(r, "role is empty") {
		t.Fatalf("custom hold reason: %q", r)
	}
	// A template that does not parse is not a hold: it is refused at save.
	if r := HoldReason(Step{ID: "m", Type: StepMessage, Text: "Hi {{first_name"}, Prospect{}); r != "" {
		t.Fatalf("syntax error as a hold: %q", r)
	}
}

func TestDescribeFieldError(t *testing.T) {
	t.Parallel()
	steps := []Step{{ID: "a", Type: StepMessage, Text: "x"}, {ID: "b", Type: StepInvite, Note: strings.Repeat("n", 312)}}
	errs := ValidateSteps(steps, nil)
	var got []string
	for _, fe := range errs {
		got = append(got, DescribeFieldError(steps, fe).Sentence)
	}
	if !strings.Contains(strings.Join(got, "|"), "Step 2 (Invitation): the note is 312 characters; LinkedIn allows 300") {
		t.Fatalf("%v", got)
	}
	d := DescribeFieldError(steps, FieldError{Field: "steps[0].text", Message: "required"})
	if d.Step != 0 || d.Field != "text" || d.Sentence != "Step 1 (Message): the message text: required" {
		t.Fatalf("%+v", d)
	}
	if d := DescribeFieldError(steps, FieldError{Field: "name", Message: "required"}); d.Step != -1 || d.Sentence != "required" {
		t.Fatalf("%+v", d)
	}
}

func TestLiveEditProblem(t *testing.T) {
	t.Parallel()
	steps := []Step{
		{ID: "s1", Type: StepInvite, Note: "Hi"},
		{ID: "s2", Type: StepIfAccepted, Within: "168h", Then: "s3", Else: End},
		{ID: "s3", Type: StepMessage, Text: "Thanks"},
		{ID: "s4", Type: StepWait, Duration: "2d"},
		{ID: "s5", Type: StepMessage, Text: "Bye"},
	}
	run := Campaign{Name: "a", AccountIDs: []string{"acc1"}, Steps: steps, StopOnReply: true, LateAcceptPolicy: LateAcceptFollowUp}
	edit := func(f func(c *Campaign)) Campaign {
		c := run
		c.Steps = append([]Step(nil), steps...)
		c.AccountIDs = append([]string(nil), run.AccountIDs...)
		f(&c)
		return c
	}
	reached := map[string]bool{"s2": true} // prospects wait at the condition
	for name, tc := range map[string]struct {
		c    Campaign
		want string // "" = allowed
	}{
		"name":                   {edit(func(c *Campaign) { c.Name = "b" }), ""},
		"caps":                   {edit(func(c *Campaign) { c.DailyCaps.Invite = 3 }), ""},
		"add sender":             {edit(func(c *Campaign) { c.AccountIDs = append(c.AccountIDs, "acc2") }), ""},
		"unreached text":         {edit(func(c *Campaign) { c.Steps[2].Text = "Thanks!" }), ""},
		"same wait in days":      {edit(func(c *Campaign) { c.Steps[3].Duration = "48h" }), ""},
		"reached text":           {edit(func(c *Campaign) { c.Steps[0].Note = "Hello" }), "step 1 (Invitation)'s text"},
		"remove sender":          {edit(func(c *Campaign) { c.AccountIDs = []string{"acc2"} }), "removing sender acc1"},
		"timing":                 {edit(func(c *Campaign) { c.Steps[3].Duration = "3d" }), "step 4 (Wait)'s timing"},
		"order":                  {edit(func(c *Campaign) { c.Steps[2], c.Steps[4] = c.Steps[4], c.Steps[2] }), "order or types"},
		"late accept":            {edit(func(c *Campaign) { c.LateAcceptPolicy = LateAcceptRecordOnly }), "late accept"},
		"text of the step after": {edit(func(c *Campaign) { c.Steps[4].Text = "Later" }), ""},
	} {
		got := LiveEditProblem(run, tc.c, reached)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
}
