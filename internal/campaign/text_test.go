package campaign

import (
	"strings"
	"testing"
)

// Every string of a step obeys the text rule, each named by its path:
// notes and texts may span lines, everything else is one line.
func TestStepTextRule(t *testing.T) {
	t.Parallel()
	base := func() []Step {
		return []Step{{ID: "s1", Type: StepInvite, Note: "Hi"}, {ID: "s2", Type: StepMessage, Text: "Thanks"},
			{ID: "s3", Type: StepInMail, Subject: "Quick", Text: "Hello"}}
	}
	fieldErr := func(errs []FieldError, field string) string {
		var msgs []string
		for _, e := range errs {
			if e.Field == field {
				msgs = append(msgs, e.Message)
			}
		}
		return strings.Join(msgs, "; ")
	}
	for _, c := range []struct {
		field string
		edit  func(s []Step)
		bad   bool
	}{
		{"steps[0].note", func(s []Step) { s[0].Note = "Hi\nthere,\tfriend\r\n" }, false},
		{"steps[1].text", func(s []Step) { s[1].Text = "a\x00b" }, true},
		{"steps[1].text", func(s []Step) { s[1].Text = "a\rb" }, true},
		{"steps[2].subject", func(s []Step) { s[2].Subject = "Quick\nquestion" }, true},
		{"steps[2].text", func(s []Step) { s[2].Text = "x\u009b31m" }, true},
		{"steps[0].id", func(s []Step) { s[0].ID = "s1\x07" }, true},
		{"steps[0].type", func(s []Step) { s[0].Type = "invite\x00" }, true},
	} {
		steps := base()
		c.edit(steps)
		msg := fieldErr(ValidateSteps(steps, nil), c.field)
		if c.bad != strings.Contains(msg, "contain") {
			t.Errorf("%s = %q: error %q, want refused=%v", c.field, steps, msg, c.bad)
		}
	}
}
